import { DataSource } from 'typeorm';
import { SharedCounterStorage } from '../../src/rate-limit/shared-counter.storage';
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
    // an instance learns the others' hits when it syncs its own new hits of that key
    expect(a.increment('k2', 60_000).totalHits).toBe(4);
    await a.sync();
    expect(a.increment('k2', 60_000).totalHits).toBe(7);
    expect(b.increment('k2', 60_000).totalHits).toBe(6); // a's unsynced hit is not seen yet (bounded by one sync)
  });

  it('writes only the keys hit since the last sync (an idle key costs no statement)', async () => {
    const a = new SharedCounterStorage(ds);
    a.increment('idle', 60_000);
    await a.sync();
    const version = () =>
      sql<{ v: string }>(ds, `SELECT xmin::text AS v FROM rate_limits WHERE key = 'idle'`);
    const before = await version();
    await a.sync();
    await a.sync();
    expect(await version()).toEqual(before);
  });

  it('keeps at most RATE_LIMIT_MAX_KEYS keys, forgetting the least recently hit', async () => {
    const a = new SharedCounterStorage(ds, { rateLimitMaxKeys: 100 });
    a.increment('hot', 60_000);
    for (let i = 0; i < 1000; i++) {
      a.increment(`cold-${i}`, 60_000);
      if (i % 50 === 0) a.increment('hot', 60_000);
    }
    expect(a.size).toBe(100);
    expect(a.peek('hot', 60_000).totalHits).toBe(21); // hit often: never pushed out
    expect(a.peek('cold-0', 60_000).totalHits).toBe(0); // forgotten: only ever more lenient
  });

  it('peeks without counting and without creating a key', () => {
    const a = new SharedCounterStorage(ds);
    expect(a.peek('never', 60_000).totalHits).toBe(0);
    expect(a.size).toBe(0);
    a.increment('once', 60_000);
    expect(a.peek('once', 60_000).totalHits).toBe(1);
    expect(a.peek('once', 60_000).totalHits).toBe(1);
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
