import { Client } from 'pg';
import { DAY_MS, partitionName, utcDay } from '../../src/audit/audit-partitions';
import { AuditRetentionService } from '../../src/audit/audit-retention.service';
import { sql } from '../../src/database/sql';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * Undoing migration AuditRollups1764961800000 while a rollup of a day is in flight (PostgreSQL only: PGlite
 * is one session). A rollup holds a partition, then the rollup tables in the order it writes them; `down`
 * used to drop audit_rollup_stale first and then wait for audit_rollup_hours — a deadlock with the server's
 * start-up rollup that CI's PostgreSQL run hit in the migration tests. `down` now takes its locks first, in
 * the rollup's order, and waits for it instead.
 */
describe('migration AuditRollups1764961800000 down beside a rollup in flight (PostgreSQL)', () => {
  let t: TestApp;
  const applied = async () =>
    (await sql<{ name: string }>(t.dataSource, `SELECT name FROM migrations`)).map((r) => r.name);

  beforeAll(async () => {
    t = await createTestApp();
    await t.get(AuditRetentionService).rollUp(); // after the start-up rollup, queued before it
  });
  afterAll(() => t.close());

  it('waits for the rollup to commit, then drops the rollup tables; up brings them back', async () => {
    while ((await applied()).includes('AuditEventIndexes1764963600000'))
      await t.dataSource.undoLastMigration({ transaction: 'each' });

    // a rollup of tomorrow's partition (no trigger yet), between its first and its last rollup-table write
    const tomorrow = partitionName(new Date(utcDay(new Date()).getTime() + DAY_MS));
    const rollup = new Client({ connectionString: t.database.url });
    await rollup.connect();
    try {
      await rollup.query('BEGIN');
      await rollup.query(`LOCK TABLE ${tomorrow} IN SHARE ROW EXCLUSIVE MODE`);
      await rollup.query(`DELETE FROM audit_rollup_hours WHERE false`);

      const down = t.dataSource.undoLastMigration({ transaction: 'each' });
      const outcome = down.then(
        () => 'done',
        (err: Error) => err.message,
      );
      // down is waiting for a lock the rollup holds
      for (let i = 0; i < 100; i++) {
        const [{ n }] = await sql<{ n: number }>(
          t.dataSource,
          `SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()`,
        );
        if (Number(n) > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      // the rollup's last writes, then its commit: neither side is chosen as a deadlock victim
      await rollup.query(`DELETE FROM audit_rollup_days WHERE false`);
      await rollup.query(`DELETE FROM audit_rollup_stale WHERE false`);
      await rollup.query('COMMIT');
      expect(await outcome).toBe('done');
    } finally {
      await rollup.end();
    }
    expect(await applied()).not.toContain('AuditRollups1764961800000');
    const [{ tables }] = await sql<{ tables: number }>(
      t.dataSource,
      `SELECT count(*)::int AS tables FROM pg_class WHERE relname LIKE 'audit_rollup_%' AND relkind = 'r'`,
    );
    expect(Number(tables)).toBe(0);

    const reapplied = await t.dataSource.runMigrations({ transaction: 'each' });
    expect(reapplied.map((m) => m.name).slice(0, 2)).toEqual([
      'AuditRollups1764961800000',
      'AuditEventIndexes1764963600000',
    ]);
    const [{ again }] = await sql<{ again: number }>(
      t.dataSource,
      `SELECT count(*)::int AS again FROM pg_class WHERE relname LIKE 'audit_rollup_%' AND relkind = 'r'`,
    );
    expect(Number(again)).toBe(4);
  });
});
