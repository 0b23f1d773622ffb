import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

export function describeDpopKeyMismatch(row: GroupRow): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: a DPoP-bound refresh token, code or access token presented ` +
    `${plural(Number(row.count), 'time')} with a proof of another key (RFC 9449 §5, §10) — ` +
    `a bound token leaked to someone without the client's key`
  );
}

/** Any event refused with reason dpop_key_mismatch (token endpoint, protected APIs): any occurrence. */
export const dpopKeyMismatchRule: ReportRule = {
  name: 'dpop_key_mismatch',
  severity: 'critical',
  defaults: { count: 1 },
  summary: 'a DPoP-bound token or code presented with another key',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(`outcome = 'failure' AND reason = 'dpop_key_mismatch'`, [
      { subject: 'client_id', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, describeDpopKeyMismatch));
  },
};
