import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isDatabaseUnavailable, isStatementTimeout } from '../common/database-errors';
import { preparedSql, sql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';
import {
  STATEMENT_BATCH_SIZES,
  statementBatchSize,
  statementBatcher,
  valuesParams,
  valuesRows,
} from '../database/statement-batch';

/** What a successful code exchange or refresh produced. */
export interface GrantTokensRow {
  grant_id: string;
  user_id: string | null;
  /** the grant's (refresh token's) scope */
  scope: string;
  /** OIDC: the authorization request's nonce, the login time and the session id (user grants) */
  nonce: string | null;
  auth_time: Date | null;
  sid: string | null;
  /**
   * The user's profile (what the id_token's claims are made of), read by the same statement when the grant's scope
   * has `openid`: null columns otherwise (and for a user deleted meanwhile).
   */
  username: string | null;
  name: string | null;
  email: string | null;
  email_verified: boolean | null;
  updated_at: Date | null;
}

/**
 * The closing SELECT of the exchange and rotation statements: the grant row `src` and, for an `openid` grant, the
 * user's profile — so that an id_token costs no statement of its own (the read-only join is the one place the
 * tokens module reads `users`; the users module owns the table and its writes).
 */
const GRANT_WITH_PROFILE = (src: string, grantId: string) =>
  `SELECT ${grantId} AS grant_id, ${src}.user_id, ${src}.scope, ${src}.nonce, ${src}.auth_time, ${src}.sid,
          u.username, u.name, u.email, u.email_verified, u.updated_at
     FROM ${src} LEFT JOIN users u
       ON u.id = ${src}.user_id AND 'openid' = ANY (string_to_array(${src}.scope, ' '))`;

/** What a refresh rotation is asked to do (TokensRepository.rotateRefresh). */
export interface RefreshRotation {
  tokenHash: string;
  clientId: string;
  successorHash: string;
  /** requested scopes, space-separated, or null to keep the token's */
  requestedScope: string | null;
  /** the thumbprint of the request's DPoP proof; a bound refresh token rotates only with that key */
  proofJkt?: string | null;
}

/** The conditions under which a refresh token `r` (of grant `g`) may be rotated, for the rotation `k`. */
const ROTATABLE = (k: { tokenHash: string; clientId: string; scope: string; jkt: string }) =>
  `r.token_hash = ${k.tokenHash} AND r.client_id = ${k.clientId}
            AND r.rotated_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now()
            AND g.id = r.grant_id AND g.revoked_at IS NULL AND g.expires_at > now()
            AND (${k.scope} IS NULL OR string_to_array(r.scope, ' ') @> string_to_array(${k.scope}, ' '))
            AND (r.dpop_jkt IS NULL OR r.dpop_jkt = ${k.jkt})`;

/**
 * Fewer concurrent rotations than this run one statement each: measured (docs/performance.md), the shared
 * statement costs PostgreSQL more per rotation than a statement of its own until about this many share it.
 */
export const ROTATION_BATCH_MIN = 4;

/**
 * Concurrent rotations in one statement, by size (database/statement-batch.ts); result row `i` answers rotation
 * `i`. Each token is found by its primary key (the LATERAL subquery: the same lookup as a rotation of its own)
 * and locked `SKIP LOCKED`: the statement never waits for a lock while it holds others (so it cannot deadlock
 * with a revocation or another instance's statement), and a token another transaction holds is not rotated here
 * — it is then rotated by its own, waiting statement, which decides as before. Two rotations of the same token
 * in one statement update it once (PostgreSQL updates a row once per statement): one gets the successor.
 */
const ROTATION_BATCH_SQL = new Map(
  STATEMENT_BATCH_SIZES.filter((size) => size >= ROTATION_BATCH_MIN).map((size) => {
    const text = `WITH k(token_hash, client_id, successor_hash, requested_scope, proof_jkt, i) AS (
         VALUES ${valuesRows(size, ['bpchar', 'varchar', 'bpchar', 'text', 'varchar'])}
       ), locked AS (
         SELECT k.i, k.successor_hash, t.*
           FROM k CROSS JOIN LATERAL (
             SELECT r.token_hash, r.grant_id, r.client_id, r.scope, r.expires_at, r.dpop_jkt,
                    g.user_id, g.nonce, g.auth_time, g.sid
               FROM refresh_tokens r, grants g
              WHERE ${ROTATABLE({ tokenHash: 'k.token_hash', clientId: 'k.client_id', scope: 'k.requested_scope', jkt: 'k.proof_jkt' })}
                FOR UPDATE OF r SKIP LOCKED
           ) t
       ), old AS (
         UPDATE refresh_tokens r SET rotated_at = now()
           FROM locked l
          WHERE r.token_hash = l.token_hash
          RETURNING l.*
       ), n AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT successor_hash, grant_id, client_id, scope, expires_at, dpop_jkt FROM old
         RETURNING 1
       )
       ${GRANT_WITH_PROFILE('old', 'old.grant_id').replace('SELECT ', 'SELECT old.i, ')}`;
    return [size, text] as const;
  }),
);

/** A refresh token as the failure diagnosis sees it. */
export interface RefreshTokenState {
  client_id: string;
  grant_id: string;
  user_id: string | null;
  scope: string;
  rotated_at: Date | null;
  revoked_at: Date | null;
  expired: boolean;
  grant_revoked: boolean;
  in_grace: boolean;
  /** the DPoP key a public client's refresh token is bound to (RFC 9449 §5) */
  dpop_jkt: string | null;
}

/** An active refresh token as introspection reports it. */
export interface ActiveRefreshTokenRow {
  client_id: string;
  user_id: string | null;
  scope: string;
  iat: number;
  exp: number;
}

/**
 * The one writer of `refresh_tokens`: raw SQL, one statement per decision on the hot paths (no ORM hydration).
 * Refresh tokens are stored only as SHA-256 hex digests. Grants belong to the grants module.
 *
 * Deliberate cross-table statements (docs/architecture.md): the code exchange consumes the code in
 * `authorization_codes` (authorization module) and creates the grant in `grants` (grants module) in the same
 * statement as the refresh token — one atomic statement, so one round trip decides the winner of concurrent
 * exchanges; rotation, grace reissue and introspection read the grant (and client, user) they depend on, and
 * the exchange and rotations of an `openid` grant return the user's profile for the id_token (GRANT_WITH_PROFILE).
 */
@Injectable()
export class TokensRepository {
  private readonly logger = new Logger(TokensRepository.name);
  /** Concurrent rotations share one statement (rotateRefresh). */
  private readonly rotations = statementBatcher<RefreshRotation, GrantTokensRow | undefined>((batch) =>
    this.rotateTogether(batch),
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The non-transactional manager (for the services that take one). */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Consumes the code (only if unused, unexpired, this client's, issued for this redirect URI, with this PKCE
   * challenge — i.e. the verifier matched — and while the client is enabled), creates its grant with the
   * code's scope intersected with the client's current registration, the first refresh token (when
   * `refreshHash` is given) and links the code to the grant — one statement, so atomic without an explicit
   * transaction: a mismatch never commits a grant. Of concurrent callers at most one gets a row back; when
   * none does, the caller reads the code to tell why. A code whose scope the client no longer holds at all is
   * not exchanged (docs/admin-api.md: narrowing a client reaches codes in flight).
   */
  async exchangeCode(input: {
    codeHash: string;
    grantId: string;
    clientId: string;
    redirectUri: string;
    /** S256 of the code_verifier sent */
    codeChallenge: string;
    grantTtlSeconds: number;
    refreshHash: string | null;
    /** the thumbprint of the request's DPoP proof: a code bound at PAR is consumed only with that key */
    proofJkt?: string | null;
    /** the key the refresh token is bound to (public clients presenting a proof), or null */
    refreshJkt?: string | null;
  }): Promise<GrantTokensRow | undefined> {
    const rows = await preparedSql<GrantTokensRow>(
      this.dataSource,
      'latchkey_exchange_code_v3',
      `WITH c AS (
         UPDATE authorization_codes ac SET consumed_at = now(), grant_id = $2
           FROM clients cl
          WHERE ac.code_hash = $1 AND ac.client_id = $3 AND ac.redirect_uri = $7 AND ac.code_challenge = $8
            AND ac.consumed_at IS NULL AND ac.expires_at > now()
            AND (ac.dpop_jkt IS NULL OR ac.dpop_jkt = $10::text)
            AND cl.client_id = ac.client_id AND cl.enabled
            AND (ac.scope = '' OR string_to_array(ac.scope, ' ') && string_to_array(cl.scope, ' '))
          RETURNING ac.user_id, ac.nonce, ac.auth_time, ac.sid,
            coalesce((SELECT string_agg(s, ' ' ORDER BY n)
                        FROM unnest(string_to_array(ac.scope, ' ')) WITH ORDINALITY AS t(s, n)
                       WHERE s = ANY (string_to_array(cl.scope, ' '))), '') AS scope
       ), g AS (
         INSERT INTO grants (id, client_id, user_id, grant_type, scope, expires_at, nonce, auth_time, sid)
         SELECT $2, $3, user_id, 'authorization_code', scope, now() + make_interval(secs => $4::int),
                nonce, auth_time, sid FROM c
         RETURNING id, user_id, scope, expires_at, nonce, auth_time, sid
       ), r AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT $5, id, $3, scope, expires_at, $9::text FROM g WHERE $6::boolean
         RETURNING 1
       )
       ${GRANT_WITH_PROFILE('g', 'g.id')}`,
      [
        input.codeHash,
        input.grantId,
        input.clientId,
        input.grantTtlSeconds,
        input.refreshHash ?? '',
        input.refreshHash !== null,
        input.redirectUri,
        input.codeChallenge,
        input.refreshJkt ?? null,
        input.proofJkt ?? null,
      ],
    );
    return rows[0];
  }

  /**
   * Rotation: marks the presented refresh token rotated — only if it is this client's, unrotated, unrevoked,
   * unexpired, its grant live and the requested scope (space-separated, or null) within its scope — and inserts
   * its successor with the same grant, scope and absolute expiry. Returns the grant row, or undefined when the
   * token was not rotated (the caller reads why). Of concurrent uses of one token exactly one succeeds.
   *
   * When ROTATION_BATCH_MIN or more rotations reach the repository in the same turn of the event loop, they are
   * made by one statement (ROTATION_BATCH_SQL: one round trip and one commit for all). A rotation that statement
   * did not make — refused, or its token held by another transaction — and every rotation of a statement the
   * database refused (it rolled back) then runs the statement of its own (`rotateOne`), which waits for locks and
   * decides. When the database cannot be reached every rotation of the batch fails, as a statement of its own
   * would.
   */
  async rotateRefresh(input: RefreshRotation): Promise<GrantTokensRow | undefined> {
    const together = await this.rotations.load(input);
    return together ?? this.rotateOne(input);
  }

  /**
   * The batch's rotations made by one statement, by position; undefined for a rotation it did not make (each
   * caller then runs its own statement, so that no caller waits for another's lock).
   */
  private async rotateTogether(batch: readonly RefreshRotation[]): Promise<(GrantTokensRow | undefined)[]> {
    return batch.length >= ROTATION_BATCH_MIN ? this.rotateInOneStatement(batch) : batch.map(() => undefined);
  }

  /** One statement for the batch: the rows it rotated, by position; none when the database refused the statement. */
  private async rotateInOneStatement(
    batch: readonly RefreshRotation[],
  ): Promise<(GrantTokensRow | undefined)[]> {
    const size = statementBatchSize(batch.length);
    let rows: (GrantTokensRow & { i: number })[];
    try {
      rows = await preparedSql<GrantTokensRow & { i: number }>(
        this.dataSource,
        `latchkey_rotate_refresh_batch_${size}`,
        ROTATION_BATCH_SQL.get(size)!,
        valuesParams(batch, size, 5, (r) => [
          r.tokenHash,
          r.clientId,
          r.successorHash,
          r.requestedScope,
          r.proofJkt ?? null,
        ]),
      );
    } catch (err) {
      if (isDatabaseUnavailable(err) || isStatementTimeout(err)) throw err;
      this.logger.warn(
        `a statement of ${batch.length} refresh rotations failed (${(err as Error)?.message}); each runs on its own`,
      );
      return batch.map(() => undefined);
    }
    const results: (GrantTokensRow | undefined)[] = batch.map(() => undefined);
    for (const { i, ...row } of rows) results[i] = row;
    return results;
  }

  /**
   * The rotation's statement of its own. It waits for a concurrent transaction's lock, and the `rotated_at IS
   * NULL` condition is re-checked after a concurrent rotation commits.
   */
  private async rotateOne(input: RefreshRotation): Promise<GrantTokensRow | undefined> {
    const rows = await preparedSql<GrantTokensRow>(
      this.dataSource,
      'latchkey_rotate_refresh_v2',
      `WITH old AS (
         UPDATE refresh_tokens r SET rotated_at = now()
           FROM grants g
          WHERE ${ROTATABLE({ tokenHash: '$1', clientId: '$2', scope: '$4::text', jkt: '$5::text' })}
          RETURNING r.grant_id, r.scope, r.expires_at, g.user_id, g.nonce, g.auth_time, g.sid, r.dpop_jkt
       ), n AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT $3, grant_id, $2, scope, expires_at, dpop_jkt FROM old
         RETURNING 1
       )
       ${GRANT_WITH_PROFILE('old', 'old.grant_id')}`,
      [input.tokenHash, input.clientId, input.successorHash, input.requestedScope, input.proofJkt ?? null],
    );
    return rows[0];
  }

  /**
   * REFRESH_REUSE_GRACE: a token rotated less than `graceSeconds` ago (grant live) gets another successor in
   * the same grant; the first successor stays valid.
   */
  async reissueWithinGrace(input: {
    tokenHash: string;
    clientId: string;
    successorHash: string;
    requestedScope: string | null;
    graceSeconds: number;
    proofJkt?: string | null;
  }): Promise<GrantTokensRow | undefined> {
    const rows = await sql<GrantTokensRow>(
      this.dataSource,
      `WITH old AS (
         SELECT r.grant_id, r.scope, r.expires_at, g.user_id, g.nonce, g.auth_time, g.sid, r.dpop_jkt
           FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
          WHERE r.token_hash = $1 AND r.client_id = $2
            AND r.rotated_at > now() - make_interval(secs => $5::int)
            AND r.revoked_at IS NULL AND r.expires_at > now()
            AND g.revoked_at IS NULL AND g.expires_at > now()
            AND ($4::text IS NULL OR string_to_array(r.scope, ' ') @> string_to_array($4::text, ' '))
            AND (r.dpop_jkt IS NULL OR r.dpop_jkt = $6::text)
       ), n AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT $3, grant_id, $2, scope, expires_at, dpop_jkt FROM old
         RETURNING 1
       )
       ${GRANT_WITH_PROFILE('old', 'old.grant_id')}`,
      [
        input.tokenHash,
        input.clientId,
        input.successorHash,
        input.requestedScope,
        input.graceSeconds,
        input.proofJkt ?? null,
      ],
    );
    return rows[0];
  }

  /** Why a refresh token was refused (read only after the rotation statement returned nothing). */
  async refreshTokenState(tokenHash: string, graceSeconds: number): Promise<RefreshTokenState | undefined> {
    const rows = await sql<RefreshTokenState>(
      this.dataSource,
      `SELECT r.client_id, r.grant_id, g.user_id, r.scope, r.rotated_at, r.revoked_at,
              (r.expires_at <= now() OR g.expires_at <= now()) AS expired,
              (g.revoked_at IS NOT NULL) AS grant_revoked,
              COALESCE(r.rotated_at > now() - make_interval(secs => $2::int), false) AS in_grace,
              r.dpop_jkt
         FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
        WHERE r.token_hash = $1`,
      [tokenHash, graceSeconds],
    );
    return rows[0];
  }

  /** Whose refresh token this is (revocation). */
  async findRefreshOwner(tokenHash: string): Promise<{ grant_id: string; client_id: string } | undefined> {
    const rows = await sql<{ grant_id: string; client_id: string }>(
      this.dataSource,
      `SELECT grant_id, client_id FROM refresh_tokens WHERE token_hash = $1`,
      [tokenHash],
    );
    return rows[0];
  }

  /**
   * Introspection of a refresh token (one query): active only if unrotated, unrevoked, unexpired, its grant
   * live and its client enabled.
   */
  async activeRefreshToken(tokenHash: string): Promise<ActiveRefreshTokenRow | undefined> {
    const rows = await preparedSql<ActiveRefreshTokenRow>(
      this.dataSource,
      'latchkey_active_refresh_token',
      `SELECT r.client_id, g.user_id, r.scope,
              floor(extract(epoch FROM r.created_at))::bigint AS iat,
              floor(extract(epoch FROM r.expires_at))::bigint AS exp
         FROM refresh_tokens r
         JOIN grants g ON g.id = r.grant_id
         JOIN clients c ON c.client_id = r.client_id
         LEFT JOIN users u ON u.id = g.user_id
        WHERE r.token_hash = $1 AND r.rotated_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now()
          AND g.revoked_at IS NULL AND g.expires_at > now() AND c.enabled AND COALESCE(u.enabled, true)`,
      [tokenHash],
    );
    const row = rows[0];
    return row && { ...row, iat: Number(row.iat), exp: Number(row.exp) };
  }

  /** Housekeeping: deletes refresh tokens a day past expiry (a replay of a just-expired token is still recognised). */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'refresh_tokens', `expires_at < now() - interval '1 day'`);
  }
}
