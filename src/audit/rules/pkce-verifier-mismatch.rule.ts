import { groupedSql, GroupRow, plural, ReportRule, subjectLabel, toFinding } from './report-rule';

export function describePkceVerifierMismatch(row: GroupRow, t: Record<string, number>): string {
  return (
    `${subjectLabel(row.subject_type, String(row.subject_value))}: ` +
    `${plural(Number(row.count), 'PKCE verifier mismatch', 'PKCE verifier mismatches')} at the token endpoint ` +
    `(threshold ${t.count}) — someone may hold intercepted authorization codes without their verifier`
  );
}

/** token.request_failed / pkce_verifier_mismatch, ≥ `count` for one client or from one IP. */
export const pkceVerifierMismatchRule: ReportRule = {
  name: 'pkce_verifier_mismatch',
  severity: 'high',
  defaults: { count: 3 },
  summary: '≥ 3 PKCE verifier mismatches for one client or from one IP (code interception attempts)',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(`type = 'token.request_failed' AND reason = 'pkce_verifier_mismatch'`, [
      { subject: 'client_id', min: t.count },
      { subject: 'ip', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, (r) => describePkceVerifierMismatch(r, t)));
  },
};
