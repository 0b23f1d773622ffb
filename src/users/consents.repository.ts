import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { sql } from '../database/sql';

/**
 * The one writer of `consents`: what a user has allowed a client, one row per (user, client), the union of the
 * scopes approved. The authorize statement reads it (authorization-codes.repository.ts, docs/architecture.md).
 */
@Injectable()
export class ConsentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findScope(userId: string, clientId: string): Promise<string | undefined> {
    const rows = await sql<{ scope: string }>(
      this.dataSource,
      `SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2`,
      [userId, clientId],
    );
    return rows[0]?.scope;
  }

  /** Adds scopes to the user's consent for the client (one statement: concurrent approvals merge). */
  async grant(userId: string, clientId: string, scope: string): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO consents AS c (user_id, client_id, scope) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, client_id) DO UPDATE SET
         scope = (SELECT coalesce(string_agg(DISTINCT s, ' ' ORDER BY s), '')
                    FROM unnest(string_to_array(c.scope || ' ' || EXCLUDED.scope, ' ')) AS s WHERE s <> ''),
         updated_at = now()`,
      [userId, clientId, scope],
    );
  }

  /** Forgets the user's remembered consent for a client (the next authorization asks again). */
  async forget(userId: string, clientId: string, manager: EntityManager): Promise<void> {
    await sql(manager, `DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, [userId, clientId]);
  }
}
