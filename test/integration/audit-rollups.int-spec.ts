import { randomUUID } from 'node:crypto';
import type { AuditRow } from '../../src/audit/audit-row';
import { AuditPartitionsRepository } from '../../src/audit/audit-partitions.repository';
import { DAY_MS, partitionName, utcDay } from '../../src/audit/audit-partitions';
import { AuditRetentionService } from '../../src/audit/audit-retention.service';
import { AuditRollupsRepository } from '../../src/audit/audit-rollups.repository';
import type { ReportWindow } from '../../src/audit/rules/report-rule';
import { SecurityReportRepository } from '../../src/audit/security-report.repository';
import { SecurityReportService } from '../../src/audit/security-report.service';
import { sql } from '../../src/database/sql';
import { writeRows } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

type Row = Partial<AuditRow> & Pick<AuditRow, 'type'>;
const HOUR = 3_600_000;

/**
 * Rollups of closed days (migration AuditRollups): the security report read through them equals the report
 * read from the rows, whatever happens to a day after it was rolled up — a late event, an update, a delete,
 * a truncated, dropped or re-created partition. Runs on PGlite and on PostgreSQL 15 (test:pg).
 */
describe('audit rollups of closed days', () => {
  let t: TestApp;
  let retention: AuditRetentionService;
  let rollups: AuditRollupsRepository;
  let partitions: AuditPartitionsRepository;
  let reports: SecurityReportService;
  let repository: SecurityReportRepository;
  const today = utcDay(new Date());
  /** 00:00 UTC `n` days ago, plus `hours` */
  const day = (n: number, hours = 0) => new Date(today.getTime() - n * DAY_MS + hours * HOUR);
  const DAYS = [34, 33, 32, 31, 30, 29]; // with partitions; 36 days ago has none (default partition)

  /** A mix like production's on one day: requests of several events, failures, bursts, issued codes. */
  function dayOfEvents(n: number): Row[] {
    const rows: Row[] = [];
    for (let i = 0; i < 60; i++) {
      const at = day(n, (i * 24) / 60 + 0.01);
      const requestId = randomUUID();
      rows.push({ type: 'authorization.requested', occurredAt: at, requestId, ip: `10.0.${n}.${i % 7}` });
      rows.push({
        type: 'authorization_code.issued',
        occurredAt: new Date(at.getTime() + 1000),
        requestId,
        clientId: `client-${i % 3}`,
        subject: `user-${i}`,
        ip: `10.0.${n}.${i % 7}`,
        // a challenge used twice on every day, and once again on the next day
        details: {
          scope: 'api:read',
          challenge_sha256: i < 2 ? `same-${n}` : i === 2 ? `same-${n + 1}` : randomUUID(),
        },
      });
      if (i % 5 === 0)
        rows.push({
          type: 'token.request_failed',
          outcome: 'failure',
          reason: i % 10 === 0 ? 'pkce_verifier_mismatch' : 'code_expired',
          occurredAt: new Date(at.getTime() + 2000),
          requestId,
          clientId: `client-${i % 3}`,
          ip: `10.0.${n}.${i % 7}`,
        });
      if (i % 6 === 0)
        rows.push({
          type: 'login.failed',
          outcome: 'failure',
          reason: 'invalid_credentials',
          occurredAt: new Date(at.getTime() + 3000),
          requestId: null, // outside any request: counted in by_type only
          subject: `user-${i % 4}`,
          ip: '192.0.2.9',
        });
    }
    // a burst across midnight into the next day: 6 failures before, 6 after (12 within 5 minutes)
    for (let i = 0; i < 12; i++)
      rows.push({
        type: 'client.authentication_failed',
        outcome: 'failure',
        reason: 'bad_secret',
        occurredAt: new Date(day(n - 1).getTime() + (i - 6) * 20_000),
        clientId: 'backend',
        ip: `203.0.113.${n}`,
      });
    return rows;
  }

  beforeAll(async () => {
    t = await createTestApp();
    retention = t.get(AuditRetentionService);
    rollups = t.get(AuditRollupsRepository);
    partitions = t.get(AuditPartitionsRepository);
    reports = t.get(SecurityReportService);
    repository = t.get(SecurityReportRepository);
    await retention.ensureRange(day(DAYS[0]), day(DAYS[DAYS.length - 1]));
    await writeRows(
      t,
      [...DAYS, 36].flatMap((n) => dayOfEvents(n)),
    );
    await writeRows(
      t,
      dayOfEvents(0).filter((r) => r.occurredAt! < new Date()),
    );
  });
  afterAll(() => t.close());

  const rolledUpDays = async () =>
    (await rollups.validDays(day(40), new Date())).map((d) =>
      Math.round((today.getTime() - d.getTime()) / DAY_MS),
    );

  /** The report with whatever rollups are valid, and the same report read from the rows only. */
  async function bothReports(window: ReportWindow) {
    const withRollups = await reports.generate(window);
    const timelineWithRollups = await reports.timeline(window);
    const saved = await sql(t.dataSource, `SELECT * FROM audit_rollup_days`);
    await sql(t.dataSource, `DELETE FROM audit_rollup_days`);
    try {
      const fromRows = await reports.generate(window);
      // the HTML page's chart too
      expect(timelineWithRollups).toEqual(await reports.timeline(window));
      return { withRollups, fromRows };
    } finally {
      for (const r of saved)
        await sql(
          t.dataSource,
          `INSERT INTO audit_rollup_days (day, partition_oid, partition_filenode, rolled_up_at) VALUES ($1, $2, $3, $4)`,
          [r.day, r.partition_oid, r.partition_filenode, r.rolled_up_at],
        );
    }
  }

  const WINDOWS: Array<[string, ReportWindow]> = [
    ['whole days', { from: day(34), to: day(29) }],
    ['hours cut anywhere', { from: day(34, 5.2839), to: day(29, 17.517) }],
    ['one day, partial hours', { from: day(32, 0.5), to: day(32, 23.75) }],
    ['up to now, with the default partition and today', { from: day(37), to: new Date() }],
    ['31 days to now', { from: new Date(Date.now() - 31 * DAY_MS), to: new Date() }],
    ['a week from a whole hour (6-hour bars)', { from: day(35, 7), to: day(28, 7) }],
    ['two days cut anywhere (1-hour bars)', { from: day(33, 0.25), to: day(31, 0.25) }],
  ];

  it('rolls up at start-up, in the background (the server: it has the scheduler)', async () => {
    await retention.beforeApplicationShutdown(); // waits for the start-up rollup only
    // yesterday's partition (created at start-up) is closed 10 minutes after midnight
    const closed = Date.now() - today.getTime() >= 10 * 60_000;
    if (closed) expect(await rolledUpDays()).toContain(1);
    else expect(await rolledUpDays()).not.toContain(1);
  });

  it('rolls up closed days only, and puts the trigger on their partitions only', async () => {
    const done = await retention.rollUp();
    expect(done).toEqual(expect.arrayContaining(DAYS.map((n) => day(n).toISOString().slice(0, 10))));
    expect(await rolledUpDays()).toEqual(expect.arrayContaining(DAYS));
    expect(await rolledUpDays()).not.toContain(0);
    const triggers = async (n: number) =>
      (
        await sql<{ tgname: string }>(
          t.dataSource,
          `SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass($1) ORDER BY tgname`,
          [partitionName(day(n))],
        )
      ).map((r) => r.tgname);
    expect(await triggers(30)).toEqual(['audit_rollup_stale', 'audit_rollup_stale_truncate']);
    // where inserts go, nothing runs per row
    expect(await triggers(0)).toEqual([]);
    // nothing left to do
    expect(await retention.rollUp()).toEqual([]);
  });

  it.each(WINDOWS)('gives the same report as the rows: %s', async (_, window) => {
    const { withRollups, fromRows } = await bothReports(window);
    expect(withRollups).toEqual(fromRows);
    expect(withRollups.total_requests).toBeGreaterThan(0);
  });

  it('finds the same reused challenges and bursts through the rollups', async () => {
    const { withRollups, fromRows } = await bothReports({ from: day(34), to: day(28) });
    const rules = (r: typeof withRollups) =>
      r.findings.map((f) => `${f.rule} ${f.subject.value} ${f.count}`).sort();
    expect(rules(withRollups)).toEqual(rules(fromRows));
    expect(rules(withRollups)).toEqual(
      expect.arrayContaining([
        // same-<k>: twice on day k (i = 0, 1), once on day k + 1 (i = 2): across two rolled-up days
        'challenge_reuse client-0 3',
        'challenge_reuse client-0 2', // same-29: day 28 has no events
        // 6 failures before midnight (day 32), 6 after (day 31)
        'ip_failure_burst 203.0.113.32 12',
      ]),
    );
  });

  it('reads a day from its rows again after a late event, until it is rolled up again', async () => {
    const window = { from: day(31, 3.5), to: day(29, 20.25) };
    const before = await reports.generate(window);
    await writeRows(t, [{ type: 'token.issued', occurredAt: day(30, 12.5) }]);
    expect(await rolledUpDays()).not.toContain(30);
    const late = await bothReports(window);
    expect(late.withRollups).toEqual(late.fromRows);
    expect(late.withRollups.by_type['token.issued']).toBe((before.by_type['token.issued'] ?? 0) + 1);
    expect(await retention.rollUp()).toEqual([day(30).toISOString().slice(0, 10)]);
    expect(await rolledUpDays()).toContain(30);
    expect(await reports.generate(window)).toEqual(late.fromRows);
  });

  it('marks a day stale on an update or a delete of its rows', async () => {
    // (as RefusalAuditor's count updates do)
    await sql(
      t.dataSource,
      `UPDATE audit_events SET details = details || '{"count": 3}'
        WHERE occurred_at >= $1 AND occurred_at < $2
          AND id = (SELECT id FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2
                       AND type = 'authorization.requested' LIMIT 1)`,
      [day(33), day(32)],
    );
    await sql(
      t.dataSource,
      `DELETE FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2 AND type = 'login.failed'`,
      [day(32), day(31)],
    );
    expect(await rolledUpDays()).not.toContain(33);
    expect(await rolledUpDays()).not.toContain(32);
    const window = { from: day(34), to: day(30) };
    const { withRollups, fromRows } = await bothReports(window);
    expect(withRollups).toEqual(fromRows);
    expect(fromRows.by_type['login.failed']).toBe(30); // days 34, 33, 31 (10 each); 32's deleted
    await retention.rollUp();
    expect(await reports.generate(window)).toEqual(fromRows);
  });

  it('marks nothing when a change is rolled back', async () => {
    await retention.rollUp();
    const runner = t.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      await runner.query(`DELETE FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2`, [
        day(31),
        day(30),
      ]);
      await runner.rollbackTransaction();
    } finally {
      await runner.release();
    }
    expect(await rolledUpDays()).toEqual(expect.arrayContaining(DAYS));
  });

  it('does not count the rollup of a truncated, dropped or re-created partition', async () => {
    await retention.rollUp();
    const window = { from: day(35), to: day(28) };
    // truncated: new storage, and marked stale
    await sql(t.dataSource, `TRUNCATE ${partitionName(day(34))}`);
    expect(await rolledUpDays()).not.toContain(34);
    // dropped (retention), then re-created empty and written again
    await partitions.drop(partitionName(day(33)));
    expect(await rolledUpDays()).not.toContain(33);
    await retention.ensureRange(day(33), day(33));
    await writeRows(t, [{ type: 'token.issued', occurredAt: day(33, 1) }]);
    expect(await rolledUpDays()).not.toContain(33);
    const { withRollups, fromRows } = await bothReports(window);
    expect(withRollups).toEqual(fromRows);
    expect(fromRows.by_type['token.issued']).toBe(2); // the late one of day 30 and this one
    // the next run forgets what is gone and rolls up the new partitions
    await retention.rollUp();
    expect(await rolledUpDays()).toEqual(expect.arrayContaining([34, 33]));
    expect(
      Number(
        (await sql<{ n: number }>(t.dataSource, `SELECT count(*)::int AS n FROM audit_rollup_days`))[0].n,
      ),
    ).toBe((await rolledUpDays()).length);
    expect(await reports.generate(window)).toEqual(fromRows);
  });

  it('computes the summary of an empty window, and of a window without rollups, as before', async () => {
    expect(await repository.summary({ from: day(3), to: day(3) })).toEqual({
      totals: { requests: 0, failures: 0, failureEvents: 0, firstFailure: null, lastFailure: null },
      byType: {},
    });
    const window = { from: day(36, 1), to: day(36, 23) }; // the default partition's day: never rolled up
    const { withRollups, fromRows } = await bothReports(window);
    expect(withRollups).toEqual(fromRows);
    expect(fromRows.total_requests).toBeGreaterThan(0);
  });
});
