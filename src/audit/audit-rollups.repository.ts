import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { sql } from '../database/sql';
import { DAY_MS, partitionDay, PARTITION_NAME } from './audit-partitions';
import { CHALLENGE_EVENT_SQL, CHALLENGE_HASH_SQL } from './rules/challenge-reuse.rule';

/** Rolling up waits at most this long for its lock on a partition (late inserts wait for the rollup). */
const LOCK_TIMEOUT = '1s';

/** A daily partition of audit_events as the catalog knows it now. */
export interface DailyPartition {
  name: string;
  day: Date;
  oid: number;
}

/**
 * Per-hour totals of closed days (migration AuditRollups): written here, read by SecurityReportRepository.
 * A day's rollup counts only while it is *valid*: its partition is still attached to audit_events with the
 * storage it had when rolled up, and no row of it changed since (audit_rollup_stale). docs/audit.md,
 * Performance, explains why the totals read this way equal those computed from the rows.
 */
@Injectable()
export class AuditRollupsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Daily partitions (not the default one) whose day ended at or before `closedBy` and has no valid rollup. */
  async unrolledClosedDays(closedBy: Date): Promise<DailyPartition[]> {
    const rows = await sql<{ name: string; oid: number | string }>(
      this.dataSource,
      `SELECT c.relname AS name, c.oid::int8 AS oid
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass('audit_events')
          AND NOT EXISTS (
            SELECT 1 FROM audit_rollup_days d
             WHERE d.partition_oid = c.oid AND d.partition_filenode = c.relfilenode
               AND NOT EXISTS (SELECT 1 FROM audit_rollup_stale s WHERE s.partition_oid = c.oid))
        ORDER BY c.relname DESC`,
    );
    const out: DailyPartition[] = [];
    for (const r of rows) {
      const day = PARTITION_NAME.test(r.name) ? partitionDay(r.name) : undefined;
      if (day && day.getTime() + DAY_MS <= closedBy.getTime())
        out.push({ name: r.name, day, oid: Number(r.oid) });
    }
    return out; // newest first: the days recent reports read
  }

  /**
   * Rolls up one closed day, in one READ COMMITTED transaction holding SHARE ROW EXCLUSIVE on the partition
   * (inserts, updates and deletes of that partition wait; reads do not). Under that lock every writer of
   * the partition has committed, so the totals are read from all its rows; the triggers are in place before
   * the lock is released, so every later change marks the day stale. Returns false when the partition is
   * gone, or busy beyond the lock timeout (the next run retries).
   */
  async rollUpDay(partition: DailyPartition): Promise<boolean> {
    if (!PARTITION_NAME.test(partition.name)) throw new Error(`not an audit partition: ${partition.name}`);
    try {
      return await this.dataSource.transaction('READ COMMITTED', async (m) => {
        await m.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        const [current] = await sql<{ oid: number | string }>(
          m,
          `SELECT c.oid::int8 AS oid FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass('audit_events') AND c.relname = $1`,
          [partition.name],
        );
        if (!current || Number(current.oid) !== partition.oid) return false;
        await m.query(`LOCK TABLE ${partition.name} IN SHARE ROW EXCLUSIVE MODE`);
        const triggers = await sql<{ tgname: string }>(
          m,
          `SELECT tgname FROM pg_trigger WHERE tgrelid = $1::oid AND tgname LIKE 'audit_rollup_stale%'`,
          [partition.oid],
        );
        if (!triggers.some((t) => t.tgname === 'audit_rollup_stale'))
          await m.query(`CREATE TRIGGER audit_rollup_stale AFTER INSERT OR UPDATE OR DELETE ON ${partition.name}
                           FOR EACH ROW EXECUTE FUNCTION audit_rollup_mark_stale()`);
        if (!triggers.some((t) => t.tgname === 'audit_rollup_stale_truncate'))
          await m.query(`CREATE TRIGGER audit_rollup_stale_truncate AFTER TRUNCATE ON ${partition.name}
                           FOR EACH STATEMENT EXECUTE FUNCTION audit_rollup_mark_stale()`);
        await m.query(`DELETE FROM audit_rollup_hours WHERE day = $1`, [partition.day]);
        await m.query(`DELETE FROM audit_rollup_ip_failures WHERE day = $1`, [partition.day]);
        await m.query(`DELETE FROM audit_rollup_days WHERE day = $1 OR partition_oid = $2::oid`, [
          partition.day,
          partition.oid,
        ]);
        await m.query(`DELETE FROM audit_rollup_stale WHERE partition_oid = $1::oid`, [partition.oid]);
        await m.query(
          `INSERT INTO audit_rollup_days (day, partition_oid, partition_filenode)
           SELECT $1, c.oid, c.relfilenode FROM pg_class c WHERE c.oid = $2::oid`,
          [partition.day, partition.oid],
        );
        // the same aggregates as SecurityReportRepository.summary, per hour (date_bin: UTC hours whatever
        // the session's time zone), and the challenge hashes of the issued codes (challenge_reuse)
        await m.query(
          `INSERT INTO audit_rollup_hours (day, hour, type, events, requests, failed_requests, failure_events,
                                           first_failure, last_failure, challenge_hashes)
           SELECT $1, date_bin('1 hour', occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS hour, type,
                  count(*)::int,
                  count(*) FILTER (WHERE COALESCE(request_first, request_id IS NOT NULL))::int,
                  count(*) FILTER (WHERE COALESCE(request_first_failure, request_id IS NOT NULL AND outcome = 'failure'))::int,
                  count(*) FILTER (WHERE outcome = 'failure')::int,
                  min(occurred_at) FILTER (WHERE outcome = 'failure'),
                  max(occurred_at) FILTER (WHERE outcome = 'failure'),
                  array_agg(${CHALLENGE_HASH_SQL}) FILTER (WHERE ${CHALLENGE_EVENT_SQL})
             FROM ${partition.name}
            GROUP BY 2, 3`,
          [partition.day],
        );
        // IPs with ≥ 2 failures in an hour (ip_failure_burst): from the partial index on failures by IP
        await m.query(
          `INSERT INTO audit_rollup_ip_failures (day, hour, ip, failures)
           SELECT $1, date_bin('1 hour', occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), ip, count(*)::int
             FROM ${partition.name}
            WHERE outcome = 'failure' AND ip IS NOT NULL
            GROUP BY 2, 3 HAVING count(*) >= 2`,
          [partition.day],
        );
        return true;
      });
    } catch (err) {
      const code = (err as { code?: string; driverError?: { code?: string } }).code;
      // 55P03 lock_not_available: busy; 42P01: dropped meanwhile — the next run sees
      if (code === '55P03' || code === '42P01') return false;
      throw err;
    }
  }

  /** Forgets rollups (and stale marks) of partitions that no longer exist as they were. */
  async forgetVanished(): Promise<number> {
    const gone = await sql<{ day: Date }>(
      this.dataSource,
      `DELETE FROM audit_rollup_days d
        WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                           WHERE i.inhparent = to_regclass('audit_events')
                             AND c.oid = d.partition_oid AND c.relfilenode = d.partition_filenode)
        RETURNING d.day`,
    );
    if (gone.length) {
      const days = gone.map((g) => g.day);
      await this.dataSource.query(`DELETE FROM audit_rollup_hours WHERE day = ANY($1::timestamptz[])`, [
        days,
      ]);
      await this.dataSource.query(`DELETE FROM audit_rollup_ip_failures WHERE day = ANY($1::timestamptz[])`, [
        days,
      ]);
    }
    await this.dataSource.query(
      `DELETE FROM audit_rollup_stale s WHERE NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.partition_oid)`,
    );
    return gone.length;
  }

  /** The days of [from, to) whose rollup is valid now (00:00 UTC of each), oldest first. */
  async validDays(from: Date, to: Date, db: DataSource | EntityManager = this.dataSource): Promise<Date[]> {
    const rows = await sql<{ day: Date | string }>(
      db,
      `SELECT d.day FROM audit_rollup_days d
         JOIN pg_class c ON c.oid = d.partition_oid AND c.relfilenode = d.partition_filenode
         JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = to_regclass('audit_events')
        WHERE d.day > $1::timestamptz - interval '1 day' AND d.day < $2
          AND NOT EXISTS (SELECT 1 FROM audit_rollup_stale s WHERE s.partition_oid = d.partition_oid)
        ORDER BY d.day`,
      [from, to],
    );
    return rows.map((r) => new Date(r.day));
  }
}
