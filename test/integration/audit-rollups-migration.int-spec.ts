import { DAY_MS, partitionName, utcDay } from '../../src/audit/audit-partitions';
import { AuditRetentionService } from '../../src/audit/audit-retention.service';
import { sql } from '../../src/database/sql';
import { writeRows } from '../factories/audit';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Migrations 1764961800000 (AuditRollups) and 1764963600000 (AuditEventIndexes): down restores the previous
 * schema — the indexes of audit_events as they were, no rollup table, function or trigger left on a
 * partition — on a database with events and rolled-up days, and up applies both again (and completes an
 * interrupted run). Runs on PGlite and on PostgreSQL 15 (test:pg).
 */
describe('migrations AuditRollups1764961800000 and AuditEventIndexes1764963600000', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const day = new Date(utcDay(new Date()).getTime() - 5 * DAY_MS);
  const indexes = async () =>
    (
      await sql<{ indexname: string }>(
        t.dataSource,
        `SELECT indexname FROM pg_indexes WHERE tablename = 'audit_events' ORDER BY indexname`,
      )
    ).map((r) => r.indexname);
  const tables = async () =>
    (
      await sql<{ tablename: string }>(
        t.dataSource,
        `SELECT tablename FROM pg_tables WHERE tablename LIKE 'audit_rollup%' ORDER BY tablename`,
      )
    ).map((r) => r.tablename);
  const triggers = async () =>
    (
      await sql<{ tgname: string }>(
        t.dataSource,
        `SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass($1) ORDER BY tgname`,
        [partitionName(day)],
      )
    ).map((r) => r.tgname);
  const appliedNames = async () =>
    (await sql<{ name: string }>(t.dataSource, `SELECT name FROM migrations ORDER BY id`)).map((r) => r.name);

  const BEFORE = [
    'audit_events_challenge_idx',
    'audit_events_client_idx',
    'audit_events_failure_ip_idx',
    'audit_events_ip_idx',
    'audit_events_outcome_idx',
    'audit_events_pkey',
    'audit_events_reason_idx',
    'audit_events_type_idx',
  ];
  const AFTER = [
    'audit_events_challenge_hash_idx',
    'audit_events_client_idx',
    'audit_events_failure_ip_idx',
    'audit_events_failure_time_idx',
    'audit_events_ip_idx',
    'audit_events_login_failed_idx',
    'audit_events_pkey',
    'audit_events_reason_idx',
    'audit_events_type_idx',
  ];

  it('goes down to the previous indexes without rollups, and up again', async () => {
    const retention = t.get(AuditRetentionService);
    await retention.ensureRange(day, day);
    await writeRows(t, [
      {
        type: 'login.failed',
        outcome: 'failure',
        reason: 'invalid_credentials',
        occurredAt: new Date(day.getTime() + 1000),
      },
    ]);
    await retention.rollUp();
    expect(await indexes()).toEqual(AFTER);
    expect(await tables()).toEqual([
      'audit_rollup_days',
      'audit_rollup_hours',
      'audit_rollup_ip_failures',
      'audit_rollup_stale',
    ]);
    expect(await triggers()).toEqual(['audit_rollup_stale', 'audit_rollup_stale_truncate']);
    expect(await appliedNames()).toEqual(
      expect.arrayContaining(['AuditRollups1764961800000', 'AuditEventIndexes1764963600000']),
    );

    // (the migrations after them are undone first, newest first)
    while ((await appliedNames()).includes('AuditEventIndexes1764963600000'))
      await t.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await indexes()).toEqual(BEFORE);
    await t.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual([]);
    expect(await triggers()).toEqual([]);
    // the partition takes rows as before (no trigger left calling a dropped function)
    await writeRows(t, [{ type: 'token.issued', occurredAt: new Date(day.getTime() + 2000) }]);

    const applied = await t.dataSource.runMigrations({ transaction: 'each' });
    // these two first, then the later ones that were undone with them
    expect(applied.map((m) => m.name).slice(0, 2)).toEqual([
      'AuditRollups1764961800000',
      'AuditEventIndexes1764963600000',
    ]);
    expect(await indexes()).toEqual(AFTER);
    expect(await retention.rollUp()).toContain(day.toISOString().slice(0, 10));
    expect(await triggers()).toEqual(['audit_rollup_stale', 'audit_rollup_stale_truncate']);
    const [{ n }] = await sql<{ n: number }>(
      t.dataSource,
      `SELECT sum(events)::int AS n FROM audit_rollup_hours WHERE day = $1`,
      [day],
    );
    expect(Number(n)).toBe(2);
  });

  it('completes an interrupted run when the migrations run again (it runs outside a transaction)', async () => {
    // as if it stopped before its last index: the first two replaced, the old challenge index still there
    await sql(t.dataSource, `DELETE FROM migrations WHERE name = 'AuditEventIndexes1764963600000'`);
    await sql(t.dataSource, `DROP INDEX audit_events_login_failed_idx`);
    await sql(
      t.dataSource,
      `CREATE INDEX audit_events_challenge_idx ON audit_events ((details->>'challenge_sha256'), occurred_at)
        WHERE type = 'authorization_code.issued'`,
    );
    const applied = await t.dataSource.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual(['AuditEventIndexes1764963600000']);
    expect(await indexes()).toEqual(AFTER);
  });
});
