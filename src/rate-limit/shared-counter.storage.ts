import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { sql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';

interface Counter {
  windowStart: number; // ms
  windowMs: number;
  local: number; // hits counted by this instance in the window
  syncedLocal: number; // of which already added to the shared row
  global: number; // the shared row's total at the last sync (all instances)
}

/** How often each instance adds its counts to the shared rows and reads the others'. */
export const RATE_LIMIT_SYNC_MS = 1000;

/**
 * Fixed-window rate-limit counters shared by every instance through PostgreSQL, without a database round
 * trip on the request path: each instance counts in memory and, every RATE_LIMIT_SYNC_MS, adds the new hits of
 * the keys that changed since the last sync to their shared rows (`rate_limits`) in one statement and reads
 * back their totals. A request is judged on (total at the last sync + this instance's hits since). So the
 * limit holds exactly on one instance and may be exceeded across N instances by at most what the other N-1
 * served during one sync interval (a key this instance no longer hits learns the others' hits at its next hit).
 *
 * Bounded whatever the number of distinct keys (RATE_LIMIT_MAX_KEYS): the Map is kept in least-recently-hit
 * order and the oldest entry is dropped when full. Dropping only ever forgets hits (a limit becomes more
 * lenient for a key nobody used lately), never refuses anyone; a key hit often stays at the young end.
 */
@Injectable()
export class SharedCounterStorage implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  private readonly counters = new Map<string, Counter>();
  /** keys hit since the last sync */
  private readonly changed = new Set<string>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private readonly maxKeys: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(abuseConfig.KEY) config?: Pick<AbuseConfig, 'rateLimitMaxKeys'>,
  ) {
    this.maxKeys = config?.rateLimitMaxKeys ?? 50_000;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sync(), RATE_LIMIT_SYNC_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
  }

  /** Keys held in memory (bounded by RATE_LIMIT_MAX_KEYS). */
  get size(): number {
    return this.counters.size;
  }

  /** Counts one hit for `key` in the current window of `ttl` ms; synchronous (no I/O on the request path). */
  increment(key: string, ttl: number): { totalHits: number; timeToExpire: number } {
    const now = Date.now();
    const windowStart = Math.floor(now / ttl) * ttl;
    let counter = this.counters.get(key);
    if (counter) this.counters.delete(key); // re-inserted below: Map order = least recently hit first
    if (!counter || counter.windowStart !== windowStart) {
      counter = { windowStart, windowMs: ttl, local: 0, syncedLocal: 0, global: 0 };
    }
    this.counters.set(key, counter);
    this.changed.add(key);
    if (this.counters.size > this.maxKeys) this.evictOldest();
    counter.local++;
    return { totalHits: this.total(counter), timeToExpire: secondsLeft(windowStart, ttl, now) };
  }

  /** The hits counted for `key` in the current window, without counting one (and without creating the key). */
  peek(key: string, ttl: number): { totalHits: number; timeToExpire: number } {
    const now = Date.now();
    const windowStart = Math.floor(now / ttl) * ttl;
    const counter = this.counters.get(key);
    const totalHits = counter && counter.windowStart === windowStart ? this.total(counter) : 0;
    return { totalHits, timeToExpire: secondsLeft(windowStart, ttl, now) };
  }

  /** Adds this instance's new hits to the shared rows and reads the totals back (one statement). */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = this.doSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private total(c: Counter): number {
    return c.global + (c.local - c.syncedLocal);
  }

  private evictOldest(): void {
    const oldest = this.counters.keys().next().value as string;
    this.counters.delete(oldest);
    this.changed.delete(oldest);
  }

  private async doSync(): Promise<void> {
    const now = Date.now();
    const keys: string[] = [];
    const starts: Date[] = [];
    const deltas: number[] = [];
    const expiries: Date[] = [];
    const pending: Array<[string, Counter, number]> = [];
    for (const key of this.changed) {
      const c = this.counters.get(key);
      if (!c || c.windowStart + c.windowMs <= now) continue;
      const delta = c.local - c.syncedLocal;
      if (delta === 0) continue;
      keys.push(key);
      starts.push(new Date(c.windowStart));
      deltas.push(delta);
      expiries.push(new Date(c.windowStart + c.windowMs));
      pending.push([key, c, delta]);
    }
    this.changed.clear();
    this.dropEndedWindows(now);
    if (!keys.length) return;
    try {
      const rows = await sql<{ key: string; hits: number }>(
        this.dataSource,
        `INSERT INTO rate_limits (key, window_start, hits, expires_at)
         SELECT * FROM unnest($1::varchar[], $2::timestamptz[], $3::int[], $4::timestamptz[])
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN rate_limits.window_start = EXCLUDED.window_start
                       THEN rate_limits.hits + EXCLUDED.hits ELSE EXCLUDED.hits END,
           window_start = EXCLUDED.window_start,
           expires_at = EXCLUDED.expires_at
         RETURNING key, hits::int AS hits`,
        [keys, starts, deltas, expiries],
      );
      const totals = new Map(rows.map((r) => [r.key, Number(r.hits)]));
      for (const [key, c, delta] of pending) {
        c.syncedLocal += delta;
        const total = totals.get(key);
        if (total !== undefined) c.global = total;
      }
    } catch (err) {
      // the database being down must not stop local limiting; the next sync catches up
      for (const [key] of pending) this.changed.add(key);
      this.logger.warn(`rate-limit sync failed: ${(err as Error).message}`);
    }
  }

  /** Forgets counters whose window is over (the oldest first, so the scan stops at the first live one). */
  private dropEndedWindows(now: number): void {
    for (const [key, c] of this.counters) {
      // windows are aligned to the clock (floor(now / ttl)) and entries are in least-recently-hit order, so
      // once one is live every younger one is too: no full scan every second
      if (c.windowStart + c.windowMs > now) break;
      this.counters.delete(key);
    }
  }

  /** Housekeeping: deletes the shared counters of past windows. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'rate_limits', `expires_at < now()`);
  }
}

function secondsLeft(windowStart: number, ttl: number, now: number): number {
  return Math.max(1, Math.ceil((windowStart + ttl - now) / 1000));
}
