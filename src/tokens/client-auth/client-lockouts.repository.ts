import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../../database/sql';

/**
 * Failed client authentication counters per (client_id, IP), in the shared `lockouts` table
 * (kind 'client', key "client_id|ip"), so every instance sees the same counts.
 */
@Injectable()
export class ClientLockoutsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** True while the key is locked out. */
  async isLocked(key: string): Promise<boolean> {
    const rows = await sql<{ locked: boolean }>(
      this.dataSource,
      `SELECT (locked_until IS NOT NULL AND locked_until > now()) AS locked
         FROM lockouts WHERE kind = 'client' AND key = $1`,
      [key],
    );
    return rows[0]?.locked === true;
  }

  /**
   * Counts one failure (one statement). Failures older than the window, or from before a lock that has
   * ended, no longer count. Reaching `limit` locks the key for `windowSeconds`.
   */
  async recordFailure(
    key: string,
    limit: number,
    windowSeconds: number,
  ): Promise<{ failures: number; locked: boolean }> {
    const rows = await sql<{ failures: number; locked: boolean }>(
      this.dataSource,
      `INSERT INTO lockouts AS l (kind, key, failures, level, locked_until, updated_at)
       VALUES ('client', $1, 1, 0,
               CASE WHEN $2::int <= 1 THEN now() + make_interval(secs => $3::int) END, now())
       ON CONFLICT (kind, key) DO UPDATE SET
         failures = CASE WHEN l.updated_at <= now() - make_interval(secs => $3::int)
                               OR COALESCE(l.locked_until <= now(), false)
                         THEN 1 ELSE l.failures + 1 END,
         locked_until = CASE WHEN (CASE WHEN l.updated_at <= now() - make_interval(secs => $3::int)
                                             OR COALESCE(l.locked_until <= now(), false)
                                        THEN 1 ELSE l.failures + 1 END) >= $2::int
                             THEN now() + make_interval(secs => $3::int) END,
         updated_at = now()
       RETURNING failures::int AS failures, (locked_until IS NOT NULL) AS locked`,
      [key, limit, windowSeconds],
    );
    return { failures: Number(rows[0].failures), locked: rows[0].locked === true };
  }
}
