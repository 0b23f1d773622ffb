import {
  eventsWhere,
  groupedFindingsSql,
  GroupRow,
  plural,
  ReportRule,
  threshold,
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
 * (the user id, or a keyed hash of an unknown username — docs/audit.md), or ≥ `distinct_usernames` distinct
 * subjects failing from one IP.
 */
export const loginBruteforceRule: ReportRule = {
  name: 'login_bruteforce',
  severity: 'high',
  defaults: { per_username: 5, distinct_usernames: 10 },
  summary: '≥ 5 failed logins for one username, or ≥ 10 distinct usernames failing from one IP',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      // the columns of the partial index on failed logins: read from the index only (no row)
      groupedFindingsSql(
        eventsWhere(
          `type = 'login.failed' AND reason IS DISTINCT FROM 'csrf_failed'`,
          'id, occurred_at, ip, subject',
        ),
        [
          { subject: 'username', key: 'subject', min: t.per_username },
          {
            subject: 'ip',
            key: 'ip',
            label: 'host(g.k)',
            distinct: 'subject',
            min: t.distinct_usernames,
          },
        ],
      ),
      [window.from, window.to, threshold(t.per_username), threshold(t.distinct_usernames)],
    );
    return rows.map((row) => toFinding(this, row, (r) => describeLoginBruteforce(r, t)));
  },
};
