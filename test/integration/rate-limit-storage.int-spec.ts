import { DataSource } from 'typeorm';
import { SharedCounterStorage } from '../../src/abuse/shared-counter.storage';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { sql } from '../../src/database/sql';
import { createTestApp, TestApp } from '../helpers/test-app';

describe('shared rate-limit counters', () => {
  let t: TestApp;
  let ds: DataSource;
  beforeAll(async () => {
    t = await createTestApp();
    ds = t.dataSource;
  });
  afterAll(() => t.close());

  it('counts the hits of one instance exactly', async () => {
    const a = new SharedCounterStorage(ds);
    const results = [];
    for (let i = 0; i < 6; i++) results.push(a.increment('k1', 60_000));
    expect(results.map((r) => r.totalHits)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(results[5].timeToExpire).toBeGreaterThan(0);
    expect(results[5].timeToExpire).toBeLessThanOrEqual(60);
  });

  it('adds up the hits of two instances after a sync', async () => {
    const a = new SharedCounterStorage(ds);
    const b = new SharedCounterStorage(ds);
    for (let i = 0; i < 3; i++) a.increment('k2', 60_000);
    for (let i = 0; i < 2; i++) b.increment('k2', 60_000);
    await a.sync();
    await b.sync();
    await a.sync(); // a learns b's hits
    const [row] = await sql<{ hits: number }>(ds, `SELECT hits FROM rate_limits WHERE key = 'k2'`);
    expect(Number(row.hits)).toBe(5);
    await b.sync(); // b learns a's hits
    expect(a.increment('k2', 60_000).totalHits).toBe(6);
    expect(b.increment('k2', 60_000).totalHits).toBe(6); // a's unsynced hit is not seen yet (bounded by one sync)
  });

  it('starts a new window from zero', async () => {
    const a = new SharedCounterStorage(ds);
    for (let i = 0; i < 3; i++) a.increment('k3', 200);
    await new Promise((r) => setTimeout(r, 250));
    expect(a.increment('k3', 200).totalHits).toBe(1);
  });

  it('purges expired counters in housekeeping', async () => {
    await ds.query(
      `INSERT INTO rate_limits (key, window_start, hits, expires_at) VALUES ('old', now() - interval '2 min', 3, now() - interval '1 min')`,
    );
    const counts = await t.get(HousekeepingService).purgeExpired();
    expect(counts.rate_limits).toBeGreaterThanOrEqual(1);
    expect(await sql(ds, `SELECT 1 FROM rate_limits WHERE key = 'old'`)).toEqual([]);
  });
});
