import { Client } from 'pg';
import { DAY_MS, partitionName, utcDay } from '../../src/audit/audit-partitions';
import { AuditRetentionService } from '../../src/audit/audit-retention.service';
import { AuditRollupsRepository } from '../../src/audit/audit-rollups.repository';
import { SecurityReportService } from '../../src/audit/security-report.service';
import { sql } from '../../src/database/sql';
import { writeRows } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * Rolling up a day while other sessions write late events into it (PostgreSQL only: PGlite is one session).
 * docs/audit.md (Performance) explains why the rollup of a day plus its stale marks always equals its rows.
 */
describe('audit rollups under concurrent writers (PostgreSQL)', () => {
  let t: TestApp;
  let retention: AuditRetentionService;
  let rollups: AuditRollupsRepository;
  const day = new Date(utcDay(new Date()).getTime() - 3 * DAY_MS);
  const window = { from: new Date(day.getTime() - DAY_MS), to: new Date(day.getTime() + 2 * DAY_MS) };
  const valid = async () => (await rollups.validDays(day, new Date(day.getTime() + DAY_MS))).length === 1;
  const tokensIssued = async () =>
    (await t.get(SecurityReportService).generate(window)).by_type['token.issued'] ?? 0;
  const rowsOfDay = async () =>
    Number(
      (
        await sql<{ n: number }>(
          t.dataSource,
          `SELECT count(*)::int AS n FROM audit_events WHERE type = 'token.issued' AND occurred_at >= $1 AND occurred_at < $2`,
          [day, new Date(day.getTime() + DAY_MS)],
        )
      )[0].n,
    );
  const session = async () => {
    const c = new Client({ connectionString: t.database.url });
    await c.connect();
    return c;
  };
  const lateInsert = (c: Client, minute: number) =>
    c.query(
      `INSERT INTO audit_events (occurred_at, type, outcome, details) VALUES ($1, 'token.issued', 'success', '{}')`,
      [new Date(day.getTime() + minute * 60_000)],
    );

  beforeAll(async () => {
    t = await createTestApp();
    retention = t.get(AuditRetentionService);
    rollups = t.get(AuditRollupsRepository);
    await retention.ensureRange(day, day);
    await writeRows(t, [{ type: 'token.issued', occurredAt: new Date(day.getTime() + 60_000) }]);
  });
  afterAll(() => t.close());

  it('waits for a writer of the day that has not committed, and counts its rows', async () => {
    const writer = await session();
    try {
      await writer.query('BEGIN');
      await lateInsert(writer, 2);
      const rolling = retention.rollUp();
      await new Promise((r) => setTimeout(r, 300));
      await writer.query('COMMIT');
      expect(await rolling).toContain(day.toISOString().slice(0, 10));
    } finally {
      await writer.end();
    }
    expect(await valid()).toBe(true);
    expect(await tokensIssued()).toBe(await rowsOfDay());
    expect(await rowsOfDay()).toBe(2);
  });

  it('is marked stale by a writer whose snapshot predates the rollup (REPEATABLE READ)', async () => {
    await sql(t.dataSource, `DELETE FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2`, [
      day,
      new Date(day.getTime() + DAY_MS),
    ]);
    const writer = await session();
    try {
      await writer.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await writer.query('SELECT count(*) FROM audit_rollup_days'); // its snapshot: before the rollup below
      expect(await retention.rollUp()).toContain(day.toISOString().slice(0, 10));
      expect(await valid()).toBe(true);
      await lateInsert(writer, 3);
      await writer.query('COMMIT');
    } finally {
      await writer.end();
    }
    expect(await valid()).toBe(false);
    expect(await tokensIssued()).toBe(1);
    expect(await retention.rollUp()).toContain(day.toISOString().slice(0, 10));
    expect(await tokensIssued()).toBe(1);
  });

  it('lets a late writer wait for a rollup in progress, then marks the day stale', async () => {
    const holder = await session();
    const writer = await session();
    try {
      // a rollup's lock, held by hand
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${partitionName(day)} IN SHARE ROW EXCLUSIVE MODE`);
      let inserted = false;
      const insert = lateInsert(writer, 4).then(() => (inserted = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(inserted).toBe(false);
      await holder.query('COMMIT');
      await insert;
    } finally {
      await holder.end();
      await writer.end();
    }
    expect(await valid()).toBe(false);
    expect(await tokensIssued()).toBe(2);
  });
});
