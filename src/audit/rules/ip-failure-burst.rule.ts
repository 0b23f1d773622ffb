import {
  GroupRow,
  IN_WINDOW,
  MAX_FINDINGS_PER_RULE,
  plural,
  ReportRule,
  SAMPLE_IDS_SQL,
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
 * Only IPs with at least `count` failures in the whole window are windowed.
 */
export const ipFailureBurstRule: ReportRule = {
  name,
  severity: 'medium',
  defaults: { count: 10, window_seconds: 300 },
  summary: '≥ 10 failed requests from one IP within any 5-minute span',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      `WITH f AS (
         SELECT id, occurred_at, ip FROM audit_events
          WHERE ${IN_WINDOW} AND outcome = 'failure' AND ip IS NOT NULL),
       heavy AS (SELECT ip FROM f GROUP BY ip HAVING count(*) >= $3),
       w AS (
         SELECT f.id, f.occurred_at, f.ip,
                count(*) OVER (PARTITION BY f.ip ORDER BY f.occurred_at
                               RANGE BETWEEN CURRENT ROW AND make_interval(secs => $4) FOLLOWING) AS burst
           FROM f JOIN heavy ON heavy.ip = f.ip)
       SELECT 'ip' AS subject_type, host(ip) AS subject_value, count(*)::int AS count,
              max(burst)::int AS max_burst, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
              ${SAMPLE_IDS_SQL} AS sample_ids
         FROM w GROUP BY ip HAVING max(burst) >= $3
        ORDER BY max(burst) DESC, count(*) DESC
        LIMIT ${MAX_FINDINGS_PER_RULE}`,
      // the frame is inclusive at both ends: "within 5 minutes" = less than window_seconds apart
      [window.from, window.to, Math.max(1, Math.ceil(t.count)), Math.max(0, t.window_seconds - 0.001)],
    );
    return rows.map((row) => toFinding(this, row, (r) => describeIpFailureBurst(r, t)));
  },
};
