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

/**
 * ≥ `count` failures (any failure event) from one IP within any span of `window_seconds` — a sliding
 * window (RANGE frame over occurred_at), not fixed buckets, so a burst across a bucket edge is not missed.
 * An exact pre-filter keeps the window function to candidate IPs: a span shorter than the bucket size
 * lies within two adjacent buckets, one of which then holds at least half of its failures; so only IPs
 * with a bucket of ≥ ⌈count/2⌉ failures can qualify (counted from the partial index on failures by IP,
 * without reading the rows).
 */
export const ipFailureBurstRule: ReportRule = {
  name,
  severity: 'medium',
  defaults: { count: 10, window_seconds: 300 },
  summary: '≥ 10 failed requests from one IP within any 5-minute span',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      `WITH candidates AS (
         SELECT DISTINCT ip FROM (
           SELECT ip FROM audit_events
            WHERE ${IN_WINDOW} AND outcome = 'failure' AND ip IS NOT NULL
            GROUP BY ip, floor(extract(epoch FROM occurred_at) / $4)
           HAVING count(*) >= $6) dense),
       w AS (
         SELECT a.id, a.occurred_at, a.ip,
                count(*) OVER (PARTITION BY a.ip ORDER BY a.occurred_at
                               RANGE BETWEEN CURRENT ROW AND make_interval(secs => $5) FOLLOWING) AS burst
           FROM audit_events a JOIN candidates c ON c.ip = a.ip
          WHERE a.occurred_at >= $1 AND a.occurred_at < $2 AND a.outcome = 'failure')
       SELECT 'ip' AS subject_type, host(ip) AS subject_value, count(*)::int AS count,
              max(burst)::int AS max_burst, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
              ${SAMPLE_IDS_SQL} AS sample_ids
         FROM w GROUP BY ip HAVING max(burst) >= $3
        ORDER BY max(burst) DESC, count(*) DESC
        LIMIT ${MAX_FINDINGS_PER_RULE}`,
      [
        window.from,
        window.to,
        threshold(t.count),
        Math.max(1, t.window_seconds),
        // the frame is inclusive at both ends: "within 5 minutes" = less than window_seconds apart
        Math.max(0, t.window_seconds - 0.001),
        Math.ceil(threshold(t.count) / 2),
      ],
    );
    return rows.map((row) => toFinding(this, row, (r) => describeIpFailureBurst(r, t)));
  },
};
