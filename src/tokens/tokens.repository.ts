import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { preparedSql, sql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';
import { SHARED_STATEMENT_MIN, sharedStatement, statementBatcher } from '../database/statement-batch';
import {
  EXCHANGEABLE,
  ISSUED_EVENT,
  GRANT_WITH_PROFILE,
  KEPT_SCOPE,
  ROTATABLE,
  ROTATED_EVENT,
  SHARED_EXCHANGE,
  SHARED_ROTATION,
  type ActiveRefreshTokenRow,
  type CodeExchange,
  type GrantTokensRow,
  type RefreshRotation,
  type RefreshTokenState,
} from './tokens.sql';

export { SHARED_STATEMENT_MIN };
export type { ActiveRefreshTokenRow, CodeExchange, GrantTokensRow, RefreshRotation, RefreshTokenState };

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
  /** Concurrent exchanges and rotations share one statement (exchangeCode, rotateRefresh). */
  private readonly exchanges = statementBatcher<CodeExchange, GrantTokensRow | undefined>((batch) =>
    sharedStatement<CodeExchange, GrantTokensRow>(this.dataSource, this.logger, SHARED_EXCHANGE, batch),
  );
  private readonly rotations = statementBatcher<RefreshRotation, GrantTokensRow | undefined>((batch) =>
    sharedStatement<RefreshRotation, GrantTokensRow>(this.dataSource, this.logger, SHARED_ROTATION, batch),
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
   *
   * SHARED_STATEMENT_MIN or more exchanges that reach the repository in the same turn of the event loop are made
   * by one statement (EXCHANGE_BATCH_SQL), exactly as rotations are (rotateRefresh): an exchange it did not make
   * runs the statement of its own (`exchangeOne`), which waits for locks and decides.
   */
  async exchangeCode(input: CodeExchange): Promise<GrantTokensRow | undefined> {
    const together = await this.exchanges.load(input);
    return together ?? this.exchangeOne(input);
  }

  /** The code exchange's statement of its own: it waits for a concurrent transaction's lock, and decides. */
  private async exchangeOne(input: CodeExchange): Promise<GrantTokensRow | undefined> {
    const rows = await preparedSql<GrantTokensRow>(
      this.dataSource,
      'latchkey_exchange_code_v3',
      `WITH c AS (
         UPDATE authorization_codes ac SET consumed_at = now(), grant_id = $2
           FROM clients cl
          WHERE ${EXCHANGEABLE({ codeHash: '$1', clientId: '$3', redirectUri: '$7', challenge: '$8', jkt: '$10::text' })}
          RETURNING ac.user_id, ac.nonce, ac.auth_time, ac.sid, ${KEPT_SCOPE} AS scope
       ), g AS (
         INSERT INTO grants (id, client_id, user_id, grant_type, scope, expires_at, nonce, auth_time, sid)
         SELECT $2, $3, user_id, 'authorization_code', scope, now() + make_interval(secs => $4::int),
                nonce, auth_time, sid FROM c
         RETURNING id, user_id, scope, expires_at, nonce, auth_time, sid
       ), r AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT $5, id, $3, scope, expires_at, $9::text FROM g WHERE $6::boolean
         RETURNING 1
       ), issued_event AS (
         ${ISSUED_EVENT('$11::jsonb', 'g')}
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
        input.issuedEvent ?? null,
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
   * When SHARED_STATEMENT_MIN or more rotations reach the repository in the same turn of the event loop, they are
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
   * The rotation's statement of its own. It waits for a concurrent transaction's lock, and the `rotated_at IS
   * NULL` condition is re-checked after a concurrent rotation commits.
   */
  private async rotateOne(input: RefreshRotation): Promise<GrantTokensRow | undefined> {
    const rows = await preparedSql<GrantTokensRow>(
      this.dataSource,
      'latchkey_rotate_refresh_v3',
      `WITH old AS (
         UPDATE refresh_tokens r SET rotated_at = now()
           FROM grants g
          WHERE ${ROTATABLE({ tokenHash: '$1', clientId: '$2', scope: '$4::text', jkt: '$5::text' })}
          RETURNING r.grant_id, r.scope, r.expires_at, g.user_id, g.nonce, g.auth_time, g.sid, r.dpop_jkt
       ), n AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT $3, grant_id, $2, scope, expires_at, dpop_jkt FROM old
         RETURNING 1
       ), issued_event AS (
         ${ROTATED_EVENT('$6::jsonb', 'old', '$4::text')}
       )
       ${GRANT_WITH_PROFILE('old', 'old.grant_id')}`,
      [
        input.tokenHash,
        input.clientId,
        input.successorHash,
        input.requestedScope,
        input.proofJkt ?? null,
        input.issuedEvent ?? null,
      ],
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
