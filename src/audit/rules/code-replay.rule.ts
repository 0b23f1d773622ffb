import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

export function describeCodeReplay(row: GroupRow): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: authorization code replayed ` +
    `${plural(Number(row.count), 'time')} with valid client authentication and verifier; ` +
    `the grant was revoked (RFC 6749 §4.1.2) — a code leaked or the client retries exchanges`
  );
}

/** token.request_failed / code_replayed: any occurrence (critical). */
export const codeReplayRule: ReportRule = {
  name: 'code_replay',
  severity: 'critical',
  defaults: { count: 1 },
  summary: 'any reuse of an authorization code (the grant is revoked)',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(`type = 'token.request_failed' AND reason = 'code_replayed'`, [
      { subject: 'client_id', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, describeCodeReplay));
  },
};
