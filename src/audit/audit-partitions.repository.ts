import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isEmbedded } from '../database/data-source';
import { DAY_MS, partitionName, PARTITION_NAME } from './audit-partitions';

/** Partition maintenance waits at most this long for its lock, so that it never queues inserts for long. */
const LOCK_TIMEOUT = '1s';

export type EnsureResult = 'created' | 'exists' | 'blocked_by_default_rows';

/**
 * DDL and bulk deletes on audit_events. Partition changes take a short ACCESS EXCLUSIVE lock on the
 * parent: they run with a lock timeout (the caller retries later) instead of queueing every insert
 * behind a long-running report.
 */
@Injectable()
export class AuditPartitionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The daily partitions that exist now (names). */
  async list(): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.dataSource.query(
      `SELECT c.relname AS name
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'audit_events' AND p.relnamespace = to_regnamespace(current_schema())::oid
        ORDER BY c.relname`,
    );
    return rows.map((r) => r.name).filter((n) => PARTITION_NAME.test(n));
  }

  /**
   * CREATE TABLE IF NOT EXISTS … PARTITION OF for one day. Idempotent and safe when several instances do
   * it at once (a lost race reports 'exists'). When the DEFAULT partition already holds rows of that day,
   * PostgreSQL refuses; those rows stay in the default partition (still queried and purged).
   */
  async ensureDay(day: Date): Promise<EnsureResult> {
    const name = partitionName(day);
    const from = new Date(Math.floor(day.getTime() / DAY_MS) * DAY_MS);
    const to = new Date(from.getTime() + DAY_MS);
    const existing: unknown[] = await this.dataSource.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [
      name,
    ]);
    if (existing.length > 0) return 'exists';
    try {
      await this.ddl(
        `CREATE TABLE IF NOT EXISTS ${name} PARTITION OF audit_events
           FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
      );
      return 'created';
    } catch (err) {
      const code = (err as { code?: string; driverError?: { code?: string } }).code;
      const message = (err as Error).message ?? '';
      // 42P07 duplicate table, 23505 pg_type race: another instance created it meanwhile
      if (code === '42P07' || code === '23505' || /already exists/.test(message)) return 'exists';
      if (code === '23514' || /default partition .* would be violated/.test(message))
        return 'blocked_by_default_rows';
      throw err;
    }
  }

  /** Drops one daily partition (a metadata operation: no row-by-row delete, no long lock). */
  async drop(name: string): Promise<void> {
    if (!PARTITION_NAME.test(name)) throw new Error(`not an audit partition: ${name}`);
    await this.ddl(`DROP TABLE IF EXISTS ${name}`);
  }

  /** Deletes at most `batch` rows older than `cutoff` (oldest first); returns how many. */
  async deleteOlderThan(cutoff: Date, batch: number): Promise<number> {
    const rows: Array<{ n: number | string }> = await this.dataSource.query(
      `WITH doomed AS (
         SELECT occurred_at, id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2
       ), deleted AS (
         DELETE FROM audit_events a USING doomed d
          WHERE a.occurred_at = d.occurred_at AND a.id = d.id
         RETURNING 1
       )
       SELECT count(*)::int AS n FROM deleted`,
      [cutoff, batch],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async ddl(sql: string): Promise<void> {
    if (isEmbedded(this.dataSource)) {
      await this.dataSource.query(sql); // one process owns PGlite: nothing to wait for
      return;
    }
    await this.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await m.query(sql);
    });
  }
}
