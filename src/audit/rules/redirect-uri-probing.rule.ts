import { groupedSql, GroupRow, plural, ReportRule, subjectLabel, toFinding } from './report-rule';

export function describeRedirectUriProbing(row: GroupRow, t: Record<string, number>): string {
  return (
    `${subjectLabel(row.subject_type, String(row.subject_value))}: ` +
    `${plural(Number(row.count), 'redirect URI mismatch', 'redirect URI mismatches')} (threshold ${t.count}) — ` +
    `someone is probing for an open redirect or a lax URI match`
  );
}

/**
 * authorization.rejected / redirect_uri_mismatch and token.request_failed / code_redirect_uri_mismatch,
 * ≥ `count` for one client or from one IP.
 */
export const redirectUriProbingRule: ReportRule = {
  name: 'redirect_uri_probing',
  severity: 'medium',
  defaults: { count: 3 },
  summary: '≥ 3 redirect URI mismatches for one client or from one IP',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(
      `(type = 'authorization.rejected' AND reason = 'redirect_uri_mismatch')
        OR (type = 'token.request_failed' AND reason = 'code_redirect_uri_mismatch')`,
      [
        { subject: 'client_id', min: t.count },
        { subject: 'ip', min: t.count },
      ],
    );
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, (r) => describeRedirectUriProbing(r, t)));
  },
};
