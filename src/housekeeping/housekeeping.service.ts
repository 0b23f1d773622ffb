import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../database/sql';

/**
 * What expires is purged in small batches (no long locks), on every instance; concurrent runs are harmless
 * (`FOR UPDATE SKIP LOCKED` lets instances share the work instead of waiting on each other).
 * Rows are kept a little past expiry so that replays of just-expired codes/tokens are still recognised.
 */
export const PURGE_TARGETS: ReadonlyArray<{ table: string; condition: string }> = [
  { table: 'authorization_codes', condition: `expires_at < now() - interval '1 hour'` },
  { table: 'authorization_requests', condition: `expires_at < now()` },
  { table: 'sessions', condition: `idle_expires_at < now() OR absolute_expires_at < now()` },
  { table: 'refresh_tokens', condition: `expires_at < now() - interval '1 day'` },
  { table: 'revoked_access_tokens', condition: `expires_at < now()` },
  { table: 'grants', condition: `expires_at < now() - interval '1 day'` },
  { table: 'rate_limits', condition: `expires_at < now()` },
  { table: 'dpop_proofs', condition: `expires_at < now()` },
  { table: 'pushed_authorization_requests', condition: `expires_at < now()` },
  {
    table: 'lockouts',
    condition: `(locked_until IS NULL OR locked_until < now()) AND updated_at < now() - interval '1 day'`,
  },
];

const BATCH = 5000;

@Injectable()
export class HousekeepingService {
  private readonly logger = new Logger('Housekeeping');
  private running = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Interval(5 * 60_000)
  async scheduled(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.purgeExpired();
    } catch (err) {
      this.logger.warn(`purge failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /**
   * Deletes expired rows table by table, BATCH rows per statement, then VACUUMs each table that lost rows, so
   * that their space is reused at once (issue 20, finding 3: a flood of pending requests must not leave a
   * table that only grows). PGlite runs no autovacuum at all; on PostgreSQL autovacuum would get there, later.
   * Returns the counts.
   */
  async purgeExpired(): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const { table, condition } of PURGE_TARGETS) {
      let total = 0;
      for (;;) {
        const rows = await sql(
          this.dataSource,
          `DELETE FROM ${table} WHERE ctid IN (
             SELECT ctid FROM ${table} WHERE ${condition} LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
           ) RETURNING 1 AS x`,
        );
        total += rows.length;
        if (rows.length < BATCH) break;
      }
      counts[table] = total;
      if (total > 0) await sql(this.dataSource, `VACUUM ${table}`);
    }
    return counts;
  }
}
