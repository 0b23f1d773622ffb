import { DAY_MS } from './audit-partitions';

export const HOUR_MS = 3_600_000;

/** [from, to): `to` exclusive. */
export interface TimeRange {
  from: Date;
  to: Date;
}

export interface Coverage {
  /** whole UTC hours of valid rolled-up days inside the window: read from audit_rollup_hours */
  rolledUp: TimeRange[];
  /** the rest of the window: read from audit_events rows */
  raw: TimeRange[];
}

/**
 * Splits [from, to) into whole hours covered by the rollups of `validDays` (00:00 UTC of each) and the
 * remaining ranges, both sorted, adjacent ranges merged. Every instant of the window is in exactly one range.
 */
export function coverage(window: TimeRange, validDays: readonly Date[]): Coverage {
  const from = window.from.getTime();
  const to = window.to.getTime();
  const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  const covered: Array<[number, number]> = [];
  for (const day of [...validDays].map((d) => d.getTime()).sort((a, b) => a - b)) {
    const lo = Math.max(day, firstHour);
    const hi = Math.min(day + DAY_MS, lastHour);
    if (lo >= hi) continue;
    const last = covered[covered.length - 1];
    if (last && last[1] === lo) last[1] = hi;
    else covered.push([lo, hi]);
  }
  const raw: Array<[number, number]> = [];
  let at = from;
  for (const [lo, hi] of covered) {
    if (lo > at) raw.push([at, lo]);
    at = hi;
  }
  if (at < to) raw.push([at, to]);
  const ranges = (xs: Array<[number, number]>) =>
    xs.map(([a, b]) => ({ from: new Date(a), to: new Date(b) }));
  return { rolledUp: ranges(covered), raw: ranges(raw) };
}

/**
 * The coverage for counting per bucket of `bucketMs` from `from` (the report's timeline): a rolled-up hour
 * that a bucket boundary cuts goes to the rows, so that every rolled-up hour lies in one bucket.
 */
export function bucketCoverage(c: Coverage, from: Date, bucketMs: number): Coverage {
  const f = from.getTime();
  const rolled: Array<[number, number]> = [];
  const raw: Array<[number, number]> = c.raw.map((r) => [r.from.getTime(), r.to.getTime()]);
  const add = (xs: Array<[number, number]>, lo: number, hi: number) => {
    const last = xs[xs.length - 1];
    if (last && last[1] === lo) last[1] = hi;
    else xs.push([lo, hi]);
  };
  for (const r of c.rolledUp)
    for (let h = r.from.getTime(); h < r.to.getTime(); h += HOUR_MS) {
      // the first boundary after the hour's start
      const next = f + (Math.floor((h - f) / bucketMs) + 1) * bucketMs;
      if (next < h + HOUR_MS) raw.push([h, h + HOUR_MS]);
      else add(rolled, h, h + HOUR_MS);
    }
  raw.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [lo, hi] of raw) add(merged, lo, hi);
  const ranges = (xs: Array<[number, number]>) =>
    xs.map(([a, b]) => ({ from: new Date(a), to: new Date(b) }));
  return { rolledUp: ranges(rolled), raw: ranges(merged) };
}

/**
 * `column >= $n AND column < $n+1`, OR'ed over the ranges (two parameters per range, appended to `params`);
 * FALSE when there are none. PostgreSQL prunes the partitions outside them (an unnamed statement is planned
 * with its parameters' values).
 */
export function rangesSql(column: string, ranges: readonly TimeRange[], params: unknown[]): string {
  if (ranges.length === 0) return 'FALSE';
  return ranges
    .map((r) => {
      params.push(r.from, r.to);
      return `(${column} >= $${params.length - 1} AND ${column} < $${params.length})`;
    })
    .join(' OR ');
}
