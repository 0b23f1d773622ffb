import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

export function describeDpopProofReplay(row: GroupRow): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: a DPoP proof presented again ` +
    `${plural(Number(row.count), 'time')} (RFC 9449 §11.1) — a proof was captured and replayed, or a client ` +
    `reuses its proofs`
  );
}

/** Any event refused with reason dpop_proof_replayed (token endpoint, PAR, protected APIs): any occurrence. */
export const dpopProofReplayRule: ReportRule = {
  name: 'dpop_proof_replay',
  severity: 'high',
  defaults: { count: 1 },
  summary: 'a DPoP proof (jti) presented twice',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(`outcome = 'failure' AND reason = 'dpop_proof_replayed'`, [
      { subject: 'client_id', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, describeDpopProofReplay));
  },
};
