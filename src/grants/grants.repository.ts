import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { purgeExpiredRows } from '../database/expired-rows';
import { preparedSql, sql } from '../database/sql';
import {
  STATEMENT_BATCH_SIZES,
  statementBatchSize,
  statementBatcher,
  valuesParams,
  valuesRows,
} from '../database/statement-batch';
import { isUuid } from '../common/uuid';
import { ACCESS_TOKEN_ACTIVE, ACCESS_TOKEN_STATE_JOINS } from './access-token-state.sql';

/** A grant a revocation statement ended (it was live), for its grant.revoked event. */
export interface RevokedGrantRow {
  id: string;
  user_id: string | null;
  client_id: string;
}

/** A client to which a user granted access: its live grants together. */
export interface UserGrantRow {
  client_id: string;
  client_name: string;
  scope: string;
  created_at: Date;
  last_used_at: Date;
}

/** The state check for `size` (grant id, jti) pairs; row `i` answers pair `i` (0-based). */
const ACCESS_TOKEN_STATE_SQL = new Map(
  STATEMENT_BATCH_SIZES.map((size) => {
    const text = `SELECT k.i, ${ACCESS_TOKEN_ACTIVE('k')} AS active
         FROM (VALUES ${valuesRows(size, ['uuid', 'uuid'])}) AS k(grant_id, jti, i)
         ${ACCESS_TOKEN_STATE_JOINS('k')}
        WHERE k.grant_id IS NOT NULL`;
    return [size, text] as const;
  }),
);

interface AccessTokenKey {
  grantId: string;
  jti: string;
}

/**
 * The one writer of `grants` and `revoked_access_tokens`: raw SQL, one statement per decision.
 * Deliberate cross-table statements (docs/architecture.md): a revocation also revokes the grant's refresh
 * tokens in the same statement (atomic, one round trip); the liveness check of an access token joins the
 * grant's client and user; a user's grant list reads the clients' names and the refresh tokens' last use.
 * The code exchange creates user grants in tokens/tokens.repository.ts (one statement with the code and the
 * refresh token).
 */
@Injectable()
export class GrantsRepository {
  /**
   * Access-token state checks that reach the repository in the same turn of the event loop (concurrent
   * introspections and bearer-guarded requests) share one statement: the read-side counterpart of the audit
   * trail's group commit. Nothing is cached (`cache: false`): every check reads the database after its request
   * arrived, so a revocation committed before it is seen, as with a statement of its own.
   */
  private readonly accessTokenStates = statementBatcher<AccessTokenKey, boolean>((keys) =>
    this.accessTokenStatesOf(keys),
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** A client_credentials grant: one per issuance, expiring with its access token. */
  async insertClientGrant(input: {
    grantId: string;
    clientId: string;
    scope: string;
    ttlSeconds: number;
  }): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO grants (id, client_id, user_id, grant_type, scope, expires_at)
       VALUES ($1, $2, NULL, 'client_credentials', $3, now() + make_interval(secs => $4::int))`,
      [input.grantId, input.clientId, input.scope, input.ttlSeconds],
    );
  }

  /**
   * True when the access token's grant is live, its client enabled, its user (if any) enabled and the token
   * itself not revoked: on the bearer guard's, userinfo's and introspection's path. Checks made at the same time
   * share one prepared statement (see `accessTokenStates`); ids that are not UUIDs are inactive without a
   * query, so that one caller's input can never fail the statement it would share with others.
   */
  async accessTokenActive(grantId: string, jti: string): Promise<boolean> {
    if (!isUuid(grantId) || !isUuid(jti)) return false;
    return this.accessTokenStates.load({ grantId, jti });
  }

  /**
   * One statement for a batch of checks (database/statement-batch.ts); the answer for each key, in order. The
   * padding rows match no grant.
   */
  private async accessTokenStatesOf(keys: readonly AccessTokenKey[]): Promise<boolean[]> {
    const size = statementBatchSize(keys.length);
    const params = valuesParams(keys, size, 2, (k) => [k.grantId, k.jti]);
    const rows = await preparedSql<{ i: number; active: boolean }>(
      this.dataSource,
      `latchkey_access_tokens_active_${size}`,
      ACCESS_TOKEN_STATE_SQL.get(size)!,
      params,
    );
    const active = keys.map(() => false);
    for (const row of rows) if (row.active === true) active[row.i] = true;
    return active;
  }

  /** Remembers a revoked access token's jti until the token would have expired anyway (RFC 7009 §2.1). */
  async revokeAccessToken(
    jti: string,
    grantId: string | null,
    expiresAtEpoch: number,
    manager: EntityManager,
  ): Promise<boolean> {
    const rows = await sql(
      manager,
      `INSERT INTO revoked_access_tokens (jti, grant_id, expires_at)
       VALUES ($1, $2, to_timestamp($3::double precision))
       ON CONFLICT (jti) DO NOTHING RETURNING jti`,
      [jti, grantId, expiresAtEpoch],
    );
    return rows.length > 0;
  }

  /** Revokes the grant a code produced, and its refresh tokens (code replay, RFC 6749 §4.1.2). */
  revokeGrantOfCode(codeHash: string, cause: string, manager: EntityManager): Promise<RevokedGrantRow[]> {
    return this.revokeWhere(
      `id = (SELECT grant_id FROM authorization_codes WHERE code_hash = $1)`,
      [codeHash, cause],
      manager,
    );
  }

  /** Revokes a grant and its refresh tokens; returns it when it was live (so the caller audits it once). */
  revokeGrant(grantId: string, cause: string, manager: EntityManager): Promise<RevokedGrantRow[]> {
    return this.revokeWhere(`id = (SELECT $1::uuid)`, [grantId, cause], manager);
  }

  /**
   * Revokes every live grant of a client at once (client disabled, narrowed or deleted). Its refresh tokens are
   * left as they are: every refresh statement and introspection check the grant and the client as well.
   */
  revokeClientGrants(clientId: string, cause: string, manager: EntityManager): Promise<RevokedGrantRow[]> {
    return sql<RevokedGrantRow>(
      manager,
      `UPDATE grants SET revoked_at = now(), revoke_cause = $2
        WHERE client_id = $1 AND revoked_at IS NULL RETURNING id, user_id, client_id`,
      [clientId, cause],
    );
  }

  /** Revokes every live grant of a user (to one client, when given). */
  revokeUserGrants(
    userId: string,
    clientId: string | null,
    cause: string,
    manager: EntityManager,
  ): Promise<RevokedGrantRow[]> {
    return this.revokeWhere(
      `user_id = $1 AND ($3::text IS NULL OR client_id = $3::text)`,
      [userId, cause, clientId],
      manager,
    );
  }

  /**
   * One statement: the live grants matching `condition` ($1, $3…; $2 is the cause) are revoked and so are their
   * refresh tokens (refresh statements check the grant too: this keeps introspection of the token honest).
   */
  private revokeWhere(
    condition: string,
    params: unknown[],
    manager: EntityManager,
  ): Promise<RevokedGrantRow[]> {
    return sql<RevokedGrantRow>(
      manager,
      `WITH g AS (
         UPDATE grants SET revoked_at = now(), revoke_cause = $2
          WHERE ${condition} AND revoked_at IS NULL
          RETURNING id, user_id, client_id
       ), r AS (
         UPDATE refresh_tokens SET revoked_at = now()
          WHERE grant_id IN (SELECT id FROM g) AND revoked_at IS NULL
          RETURNING 1
       )
       SELECT id, user_id, client_id FROM g`,
      params,
    );
  }

  /** One page of the clients a user granted access to, ordered by client_id (keyset after `afterClientId`). */
  listForUser(userId: string, limit: number, afterClientId: string | null): Promise<UserGrantRow[]> {
    return sql<UserGrantRow>(
      this.dataSource,
      `WITH live AS (
         SELECT g.id, g.client_id, g.scope, g.created_at,
                COALESCE((SELECT max(r.created_at) FROM refresh_tokens r WHERE r.grant_id = g.id),
                         g.created_at) AS last_used_at
           FROM grants g
          WHERE g.user_id = $1 AND g.revoked_at IS NULL AND g.expires_at > now()
            AND ($3::text IS NULL OR g.client_id > $3::text)
       )
       SELECT l.client_id, c.client_name,
              (SELECT string_agg(DISTINCT s, ' ' ORDER BY s)
                 FROM live l2, unnest(string_to_array(l2.scope, ' ')) s
                WHERE l2.client_id = l.client_id AND s <> '') AS scope,
              min(l.created_at) AS created_at, max(l.last_used_at) AS last_used_at
         FROM live l JOIN clients c ON c.client_id = l.client_id
        GROUP BY l.client_id, c.client_name
        ORDER BY l.client_id
        LIMIT $2`,
      [userId, limit, afterClientId],
    );
  }

  /** Housekeeping: forgets revoked access tokens past their expiry (they would be refused anyway). */
  purgeRevokedAccessTokens(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'revoked_access_tokens', `expires_at < now()`);
  }

  /** Housekeeping: deletes grants a day past expiry (their refresh tokens go with them: ON DELETE CASCADE). */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'grants', `expires_at < now() - interval '1 day'`);
  }
}
