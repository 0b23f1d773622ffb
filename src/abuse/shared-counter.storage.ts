import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../database/sql';

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
 * trip on the request path: each instance counts in memory and, every RATE_LIMIT_SYNC_MS, adds its new hits
 * to the shared row (`rate_limits`) in one statement and reads back the total. A request is judged on
 * (total at the last sync + this instance's hits since). So the limit holds exactly on one instance and may
 * be exceeded across N instances by at most what the other N-1 served during one sync interval.
 */
@Injectable()
export class SharedCounterStorage implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  private readonly counters = new Map<string, Counter>();
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sync(), RATE_LIMIT_SYNC_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
  }

  /** Counts one hit for `key` in the current window of `ttl` ms; synchronous (no I/O on the request path). */
  increment(key: string, ttl: number): { totalHits: number; timeToExpire: number } {
    const now = Date.now();
    const windowStart = Math.floor(now / ttl) * ttl;
    let counter = this.counters.get(key);
    if (!counter || counter.windowStart !== windowStart) {
      counter = { windowStart, windowMs: ttl, local: 0, syncedLocal: 0, global: 0 };
      this.counters.set(key, counter);
    }
    counter.local++;
    const totalHits = counter.global + (counter.local - counter.syncedLocal);
    const timeToExpire = Math.max(1, Math.ceil((windowStart + ttl - now) / 1000));
    return { totalHits, timeToExpire };
  }

  /** Adds this instance's new hits to the shared rows and reads the totals back (one statement). */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = this.doSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    const now = Date.now();
    const keys: string[] = [];
    const starts: Date[] = [];
    const deltas: number[] = [];
    const expiries: Date[] = [];
    const pending: Array<[string, Counter, number]> = [];
    for (const [key, c] of this.counters) {
      if (c.windowStart + c.windowMs <= now) {
        this.counters.delete(key); // window over
        continue;
      }
      const delta = c.local - c.syncedLocal;
      keys.push(key);
      starts.push(new Date(c.windowStart));
      deltas.push(delta);
      expiries.push(new Date(c.windowStart + c.windowMs));
      pending.push([key, c, delta]);
    }
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
      this.logger.warn(`rate-limit sync failed: ${(err as Error).message}`);
    }
  }
}
