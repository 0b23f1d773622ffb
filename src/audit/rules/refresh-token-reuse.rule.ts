import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

export function describeRefreshTokenReuse(row: GroupRow): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: ${plural(Number(row.count), 'rotated refresh token')} ` +
    `presented again; the grant was revoked — a refresh token was likely stolen (OAuth 2.1 §4.3.1)`
  );
}

/** token.request_failed / refresh_reused: any occurrence (critical). */
export const refreshTokenReuseRule: ReportRule = {
  name: 'refresh_token_reuse',
  severity: 'critical',
  defaults: { count: 1 },
  summary: 'any rotated refresh token presented again (the grant is revoked)',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(`type = 'token.request_failed' AND reason = 'refresh_reused'`, [
      { subject: 'client_id', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, describeRefreshTokenReuse));
  },
};
