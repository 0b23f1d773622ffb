import { randomUUID } from 'node:crypto';
import { AuditPartitionsRepository } from '../../src/audit/audit-partitions.repository';
import { DAY_MS, partitionName, utcDay } from '../../src/audit/audit-partitions';
import { AuditRetentionService } from '../../src/audit/audit-retention.service';
import { CliError } from '../../src/operations/cli-command.decorator';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { writeRows } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Daily partitions and retention (issue 6: retention must not lock the table). */
describe('audit partitions and retention', () => {
  let t: TestApp;
  let retention: AuditRetentionService;
  let partitions: AuditPartitionsRepository;
  const today = utcDay(new Date());
  const daysAgo = (n: number, hours = 12) => new Date(today.getTime() - n * DAY_MS + hours * 3600_000);

  beforeAll(async () => {
    t = await createTestApp({ AUDIT_RETENTION: '60d' });
    retention = t.get(AuditRetentionService);
    partitions = t.get(AuditPartitionsRepository);
  });
  afterAll(() => t.close());

  const partitionOf = async (requestId: string) =>
    (
      await t.dataSource.query(
        `SELECT tableoid::regclass::text AS p FROM audit_events WHERE request_id = $1`,
        [requestId],
      )
    )[0]?.p;
  const count = async (sql = 'true', params: unknown[] = []) =>
    Number(
      (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE ${sql}`, params))[0].n,
    );

  it('creates the partitions from yesterday to 7 days ahead at start-up', async () => {
    const names = await partitions.list();
    for (let d = -1; d <= 7; d++)
      expect(names).toContain(partitionName(new Date(today.getTime() + d * DAY_MS)));
  });

  it('is idempotent, also when instances race', async () => {
    const first = daysAgo(20);
    const last = daysAgo(18);
    const results = await Promise.all([
      retention.ensureRange(first, last),
      retention.ensureRange(first, last),
      retention.ensureRange(first, last),
    ]);
    expect(results.flat().sort()).toEqual(
      [daysAgo(20), daysAgo(19), daysAgo(18)].map((d) => d.toISOString().slice(0, 10)).sort(),
    );
    expect(await retention.ensureRange(first, last)).toEqual([]);
  });

  it('stores an event in the partition of its day, and in the default partition when none exists', async () => {
    const now = randomUUID();
    const old = randomUUID();
    await writeRows(t, [
      { type: 'token.issued', requestId: now },
      { type: 'token.issued', requestId: old, occurredAt: daysAgo(400) },
    ]);
    expect(await partitionOf(now)).toBe(partitionName(new Date()));
    expect(await partitionOf(old)).toBe('audit_events_default');
  });

  it('leaves a day in the default partition when it already holds rows of that day (no error)', async () => {
    const requestId = randomUUID();
    await writeRows(t, [{ type: 'token.issued', requestId, occurredAt: daysAgo(300) }]);
    expect(await partitions.ensureDay(daysAgo(300))).toBe('blocked_by_default_rows');
    expect(await retention.ensureRange(daysAgo(300), daysAgo(300))).toEqual([]);
    expect(await partitionOf(requestId)).toBe('audit_events_default');
  });

  it('drops whole partitions older than the cutoff and deletes the remaining older rows in batches', async () => {
    await retention.ensureRange(daysAgo(45), daysAgo(40));
    const tag = `purge-${randomUUID()}`;
    const rows = [
      ...[45, 44, 43, 42, 41, 40].flatMap((d) =>
        [1, 2, 3].map((h) => ({
          type: 'token.issued' as const,
          clientId: tag,
          occurredAt: daysAgo(d, h * 5),
        })),
      ),
      // default partition (no partition for 200 days ago)
      ...Array.from({ length: 11 }, (_, i) => ({
        type: 'login.failed' as const,
        clientId: tag,
        occurredAt: daysAgo(200, i),
      })),
    ];
    await writeRows(t, rows);
    // cutoff: 42 days ago at noon → days 45, 44, 43 dropped whole; day 42 partly (its 05:00 and 10:00 rows)
    const cutoff = daysAgo(42, 12);
    const result = await retention.purge((Date.now() - cutoff.getTime()) / 1000, new Date(), 4);
    expect(result.cutoff.slice(0, 13)).toBe(cutoff.toISOString().slice(0, 13));
    expect(result.dropped_partitions).toEqual(
      expect.arrayContaining([45, 44, 43].map((d) => partitionName(daysAgo(d)))),
    );
    expect(result.dropped_partitions).not.toContain(partitionName(daysAgo(42)));
    expect(result.deleted_rows).toBeGreaterThanOrEqual(11 + 2);
    expect(await count('client_id = $1', [tag])).toBe(1 + 3 + 3); // day 42 at 15:00, days 41 and 40
    expect(await count('occurred_at < $1', [cutoff])).toBe(0);
    const names = await partitions.list();
    expect(names).not.toContain(partitionName(daysAgo(44)));
    expect(names).toContain(partitionName(daysAgo(41)));
  });

  it('runs as the CLI command audit:purge --older-than', async () => {
    const tag = `cli-${randomUUID()}`;
    await writeRows(t, [
      { type: 'token.issued', clientId: tag, occurredAt: daysAgo(100) },
      { type: 'token.issued', clientId: tag, occurredAt: daysAgo(2) },
    ]);
    const result = await t.get(CliOperations).execute('audit:purge', { olderThanSeconds: 90 * 86400 });
    expect(result).toMatchObject({ dropped_partitions: expect.any(Array), deleted_rows: expect.any(Number) });
    expect(typeof result.cutoff).toBe('string');
    expect(await count('client_id = $1', [tag])).toBe(1);
    await expect(t.get(CliOperations).execute('audit:purge', { olderThanSeconds: 'soon' })).rejects.toThrow(
      CliError,
    );
  });

  it('applies AUDIT_RETENTION on its schedule and keeps partitions created ahead', async () => {
    const tag = `retention-${randomUUID()}`;
    await writeRows(t, [
      { type: 'token.issued', clientId: tag, occurredAt: daysAgo(61) },
      { type: 'token.issued', clientId: tag, occurredAt: daysAgo(59) },
    ]);
    await retention.maintain();
    expect(await count('client_id = $1', [tag])).toBe(1);
    expect(await partitions.list()).toContain(partitionName(new Date(today.getTime() + 7 * DAY_MS)));
  });
});
