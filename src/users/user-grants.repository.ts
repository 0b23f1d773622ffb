import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { sql } from '../database/sql';

/** A client to which a user granted access: its live grants together. */
export interface UserGrantRow {
  client_id: string;
  client_name: string;
  scope: string;
  created_at: Date;
  last_used_at: Date;
}

/**
 * A user's grants and remembered consents, as the user administration sees them. Like the clients registry
 * revoking a client's grants, this writes `grants` (revocation only) and `consents` on purpose: the users
 * module owns "everything a user granted", and the revocation commits in the caller's transaction with its
 * audit events. The grant's tokens die with it (the access-token verifier and the refresh statement check
 * the grant).
 */
@Injectable()
export class UserGrantsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One page of the clients a user granted access to, ordered by client_id (keyset after `afterClientId`). */
  list(userId: string, limit: number, afterClientId: string | null): Promise<UserGrantRow[]> {
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

  /** Revokes every live grant of the user (of one client, when given); returns the grants revoked. */
  revoke(
    userId: string,
    clientId: string | null,
    cause: string,
    manager: EntityManager,
  ): Promise<Array<{ id: string; client_id: string }>> {
    return sql<{ id: string; client_id: string }>(
      manager,
      `WITH g AS (
         UPDATE grants SET revoked_at = now(), revoke_cause = $3
          WHERE user_id = $1 AND ($2::text IS NULL OR client_id = $2::text) AND revoked_at IS NULL
          RETURNING id, client_id
       ), r AS (
         UPDATE refresh_tokens SET revoked_at = now()
          WHERE grant_id IN (SELECT id FROM g) AND revoked_at IS NULL
          RETURNING 1
       )
       SELECT id, client_id FROM g`,
      [userId, clientId, cause],
    );
  }

  /** Forgets the user's remembered consent for a client (the next authorization asks again). */
  async forgetConsent(userId: string, clientId: string, manager: EntityManager): Promise<void> {
    await sql(manager, `DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, [userId, clientId]);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
