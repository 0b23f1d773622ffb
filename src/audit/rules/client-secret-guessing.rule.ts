import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

export function describeClientSecretGuessing(row: GroupRow, t: Record<string, number>): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: ${plural(Number(row.count), 'wrong client secret')} ` +
    `(threshold ${t.count}) — someone is guessing this client's secret, or it was rotated and a caller kept the old one`
  );
}

/** client.authentication_failed / bad_secret, ≥ `count` for one client_id in the window. */
export const clientSecretGuessingRule: ReportRule = {
  name: 'client_secret_guessing',
  severity: 'high',
  defaults: { count: 5 },
  summary: '≥ 5 failed client authentications (wrong secret) for one client_id',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(`type = 'client.authentication_failed' AND reason = 'bad_secret'`, [
      { subject: 'client_id', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, (r) => describeClientSecretGuessing(r, t)));
  },
};
