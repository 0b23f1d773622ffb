import { rangesSql } from '../audit-rollup-coverage';
import {
  GroupRow,
  IN_WINDOW,
  MAX_FINDINGS_PER_RULE,
  plural,
  ReportRule,
  SAMPLE_IDS_SQL,
  threshold,
  toFinding,
} from './report-rule';

const name = 'ip_failure_burst';

/** Words a finding: total failures of the IP in the window and its worst burst. */
export function describeIpFailureBurst(row: GroupRow, t: Record<string, number>): string {
  const minutes = t.window_seconds / 60;
  const span = Number.isInteger(minutes) ? plural(minutes, 'minute') : plural(t.window_seconds, 'second');
  return (
    `IP ${row.subject_value}: ${plural(Number(row.count), 'failed request')} in the window, ` +
    `up to ${Number(row.max_burst)} within ${span} (threshold ${t.count})`
  );
}

/** audit_rollup_ip_failures keeps an IP's hour from this many failures on. */
const ROLLED_UP_FROM = 2;

/**
 * The IPs that can have a burst (a superset of those that do), as SQL (`$1`, `$2` the window, `$4` the span;
 * its own parameters are appended to `params`).
 * - With a span of at most an hour and count ≥ 3: a burst's failures lie within two adjacent UTC hours,
 *   one of which holds at least ⌈count/2⌉ ≥ 2 of them — the hours' counts come from the rollups
 *   (audit_rollup_ip_failures: an IP's hour from 2 failures on) where valid, else from the rows.
 * - Otherwise, exactly, in one ordered pass over the partial index on failures by IP: an IP has a burst of
 *   ≥ count iff some failure of it is followed, in time order, by its (count − 1)-th next failure within
 *   the span (the first of equal times starts the frame).
 */
function candidatesSql(
  t: Record<string, number>,
  coverage: { rolledUp: Array<{ from: Date; to: Date }>; raw: Array<{ from: Date; to: Date }> },
  params: unknown[],
): string {
  const half = Math.ceil(threshold(t.count) / 2);
  if (t.window_seconds <= 3600 && half >= ROLLED_UP_FROM) {
    params.push(half);
    const min = `$${params.length}`;
    const parts: string[] = [];
    if (coverage.raw.length)
      parts.push(`SELECT ip FROM audit_events
                   WHERE outcome = 'failure' AND ip IS NOT NULL AND (${rangesSql('occurred_at', coverage.raw, params)})
                   GROUP BY ip, date_bin('1 hour', occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')
                  HAVING count(*) >= ${min}`);
    if (coverage.rolledUp.length)
      parts.push(`SELECT ip FROM audit_rollup_ip_failures
                   WHERE failures >= ${min} AND (${rangesSql('hour', coverage.rolledUp, params)})`);
    return parts.length
      ? `SELECT DISTINCT ip FROM (${parts.join(' UNION ALL ')}) h`
      : `SELECT NULL::inet AS ip WHERE false`;
  }
  params.push(threshold(t.count) - 1);
  return `SELECT DISTINCT ip FROM (
            SELECT ip, occurred_at, lead(occurred_at, $${params.length}) OVER (PARTITION BY ip ORDER BY occurred_at) AS later
              FROM audit_events
             WHERE ${IN_WINDOW} AND outcome = 'failure' AND ip IS NOT NULL) f
           WHERE later <= occurred_at + make_interval(secs => $4)`;
}

/**
 * ≥ `count` failures (any failure event) from one IP within any span of `window_seconds` — a sliding
 * window (RANGE frame over occurred_at), not fixed buckets, so a burst across a bucket edge is not missed.
 * The window function runs only for candidate IPs (candidatesSql), each through the partial index on
 * failures by IP; the candidates and the rows are read in one snapshot.
 */
export const ipFailureBurstRule: ReportRule = {
  name,
  severity: 'medium',
  defaults: { count: 10, window_seconds: 300 },
  summary: '≥ 10 failed requests from one IP within any 5-minute span',
  async query({ window, thresholds: t, withRollups }) {
    const rows = await withRollups((sql, coverage) => {
      const params: unknown[] = [
        window.from,
        window.to,
        threshold(t.count),
        // the frame is inclusive at both ends: "within 5 minutes" = less than window_seconds apart
        Math.max(0, t.window_seconds - 0.001),
      ];
      const candidates = candidatesSql(t, coverage, params);
      return sql<GroupRow>(
        `WITH candidates AS MATERIALIZED (${candidates}),
         w AS (
           -- one candidate at a time, through the index (however many the planner expects)
           SELECT c.ip, a.id, a.occurred_at, a.burst
             FROM candidates c CROSS JOIN LATERAL (
               SELECT id, occurred_at,
                      count(*) OVER (ORDER BY occurred_at
                                     RANGE BETWEEN CURRENT ROW AND make_interval(secs => $4) FOLLOWING) AS burst
                 FROM audit_events
                WHERE ip = c.ip AND ${IN_WINDOW} AND outcome = 'failure') a)
         SELECT 'ip' AS subject_type, host(ip) AS subject_value, count(*)::int AS count,
                max(burst)::int AS max_burst, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
                ${SAMPLE_IDS_SQL} AS sample_ids
           FROM w GROUP BY ip HAVING max(burst) >= $3
          ORDER BY max(burst) DESC, count(*) DESC
          LIMIT ${MAX_FINDINGS_PER_RULE}`,
        params,
      );
    });
    return rows.map((row) => toFinding(this, row, (r) => describeIpFailureBurst(r, t)));
  },
};
