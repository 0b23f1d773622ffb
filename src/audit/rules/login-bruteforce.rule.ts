import {
  GroupRow,
  IN_WINDOW,
  MAX_FINDINGS_PER_RULE,
  plural,
  ReportRule,
  SAMPLE_IDS_SQL,
  toFinding,
} from './report-rule';

export function describeLoginBruteforce(row: GroupRow, t: Record<string, number>): string {
  if (row.subject_type === 'ip')
    return (
      `IP ${row.subject_value}: failed logins for ${plural(Number(row.count), 'distinct username')} ` +
      `(threshold ${t.distinct_usernames}) — password spraying or credential stuffing`
    );
  return (
    `login subject ${JSON.stringify(row.subject_value)}: ${plural(Number(row.count), 'failed login')} ` +
    `(threshold ${t.per_username}) — password guessing against one account`
  );
}

/**
 * login.failed (CSRF failures excluded: they are not password guesses): ≥ `per_username` for one subject
 * (the user id, or a keyed hash of an unknown username — EVENTS.md), or ≥ `distinct_usernames` distinct
 * subjects failing from one IP.
 */
export const loginBruteforceRule: ReportRule = {
  name: 'login_bruteforce',
  severity: 'high',
  defaults: { per_username: 5, distinct_usernames: 10 },
  summary: '≥ 5 failed logins for one username, or ≥ 10 distinct usernames failing from one IP',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      `WITH e AS (
         SELECT id, occurred_at, subject, ip FROM audit_events
          WHERE ${IN_WINDOW} AND type = 'login.failed' AND reason IS DISTINCT FROM 'csrf_failed')
       SELECT 'username' AS subject_type, subject AS subject_value, count(*)::int AS count,
              min(occurred_at) AS first_seen, max(occurred_at) AS last_seen, ${SAMPLE_IDS_SQL} AS sample_ids
         FROM e WHERE subject IS NOT NULL GROUP BY subject HAVING count(*) >= $3
       UNION ALL
       SELECT 'ip', host(ip), count(DISTINCT subject)::int, min(occurred_at), max(occurred_at), ${SAMPLE_IDS_SQL}
         FROM e WHERE ip IS NOT NULL GROUP BY ip HAVING count(DISTINCT subject) >= $4
       ORDER BY count DESC, subject_value
       LIMIT ${MAX_FINDINGS_PER_RULE}`,
      [
        window.from,
        window.to,
        Math.max(1, Math.ceil(t.per_username)),
        Math.max(1, Math.ceil(t.distinct_usernames)),
      ],
    );
    return rows.map((row) => toFinding(this, row, (r) => describeLoginBruteforce(r, t)));
  },
};
