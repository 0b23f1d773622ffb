import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-hour totals of closed days of audit_events, for the security report's summary (issue 18: the 30-day
 * report at 10 M events scanned two windows of 3.3 M rows for totals that never change once a day is over).
 *
 * - audit_rollup_days: one row per daily partition rolled up, naming the partition (oid) and its storage
 *   (relfilenode) at that time. A rollup counts only while that partition is still attached to audit_events
 *   with the same storage (a dropped, re-created, detached or truncated partition no longer matches).
 * - audit_rollup_hours: that day's totals per hour and event type (what SecurityReportRepository.summary
 *   computes from rows), and for issued codes the 64-bit hashes of their challenge hashes (challenge_reuse
 *   finds repeated challenges among them, then reads the events of those only).
 * - audit_rollup_ip_failures: per hour, the IPs with at least 2 failures in it, and how many (ip_failure_burst
 *   looks for bursts only from IPs with enough failures in one hour).
 * - audit_rollup_stale: a rolled-up partition gets the row trigger audit_rollup_mark_stale (only then: the
 *   current day's partition, where inserts go, has no trigger); any later insert, update or delete of its
 *   rows (a late event, the purge of a partial day, an UPDATE of details.count) marks it stale in the same
 *   transaction, once per transaction and partition. A stale day is read from its rows again until it is
 *   rolled up again. Marking is an INSERT, so it does not depend on what the writer's snapshot sees.
 * See docs/audit.md (Performance) for why this is exact.
 */
export class AuditRollups1764961800000 implements MigrationInterface {
  name = 'AuditRollups1764961800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_rollup_days (
        day timestamptz PRIMARY KEY,
        partition_oid oid NOT NULL UNIQUE,
        partition_filenode oid NOT NULL,
        rolled_up_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE audit_rollup_hours (
        day timestamptz NOT NULL,
        hour timestamptz NOT NULL,
        type varchar(64) NOT NULL,
        events integer NOT NULL,
        requests integer NOT NULL,
        failed_requests integer NOT NULL,
        failure_events integer NOT NULL,
        first_failure timestamptz,
        last_failure timestamptz,
        challenge_hashes bigint[],
        PRIMARY KEY (hour, type)
      )`);
    await q.query(`CREATE INDEX audit_rollup_hours_day_idx ON audit_rollup_hours (day)`);
    await q.query(`
      CREATE TABLE audit_rollup_ip_failures (
        day timestamptz NOT NULL,
        hour timestamptz NOT NULL,
        ip inet NOT NULL,
        failures integer NOT NULL,
        PRIMARY KEY (hour, ip)
      )`);
    await q.query(`CREATE INDEX audit_rollup_ip_failures_day_idx ON audit_rollup_ip_failures (day)`);
    await q.query(`
      CREATE TABLE audit_rollup_stale (
        partition_oid oid NOT NULL,
        marked_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_rollup_stale_partition_idx ON audit_rollup_stale (partition_oid)`);
    // once per transaction and partition (a transaction-local setting remembers it; a rolled-back
    // subtransaction forgets both the mark and the setting)
    await q.query(`
      CREATE FUNCTION audit_rollup_mark_stale() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('latchkey.audit_rollup_stale_' || TG_RELID, true) IS DISTINCT FROM 'y' THEN
          INSERT INTO audit_rollup_stale (partition_oid) VALUES (TG_RELID);
          PERFORM set_config('latchkey.audit_rollup_stale_' || TG_RELID, 'y', true);
        END IF;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Locks first, in the order a running rollup (AuditRollupsRepository.rollUpDay) takes them: a partition,
    // then the rollup tables as it writes them. Dropping in the order below without them deadlocked with the
    // server's start-up rollup (this drops audit_rollup_stale, then waits for audit_rollup_hours, which the
    // rollup holds while it waits for audit_rollup_stale). LOCK on audit_events takes every partition too.
    await q.query(
      `LOCK TABLE audit_events, audit_rollup_hours, audit_rollup_ip_failures, audit_rollup_days, audit_rollup_stale
         IN ACCESS EXCLUSIVE MODE`,
    );
    // the triggers on rolled-up partitions go with their function
    await q.query(`DROP FUNCTION IF EXISTS audit_rollup_mark_stale() CASCADE`);
    await q.query(`DROP TABLE IF EXISTS audit_rollup_stale`);
    await q.query(`DROP TABLE IF EXISTS audit_rollup_ip_failures`);
    await q.query(`DROP TABLE IF EXISTS audit_rollup_hours`);
    await q.query(`DROP TABLE IF EXISTS audit_rollup_days`);
  }
}
