import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

/** The authorization.rejected reasons that mean "tried to get a code without S256 PKCE". */
export const DOWNGRADE_REASONS = [
  'pkce_missing_challenge',
  'pkce_method_missing',
  'pkce_plain_rejected',
  'pkce_method_unsupported',
] as const;

export function describePkceDowngradeAttempt(row: GroupRow): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: ` +
    `${plural(Number(row.count), 'authorization request')} without S256 PKCE ` +
    `(no challenge, no method or plain) — a downgrade attempt or an outdated client`
  );
}

/** authorization.rejected with a PKCE downgrade reason, ≥ `count` per client. */
export const pkceDowngradeAttemptRule: ReportRule = {
  name: 'pkce_downgrade_attempt',
  severity: 'medium',
  defaults: { count: 1 },
  summary: 'authorization requests without a challenge, with plain, or with no method',
  async query({ window, thresholds: t, sql }) {
    const reasons = DOWNGRADE_REASONS.map((r) => `'${r}'`).join(', ');
    const q = groupedSql(`type = 'authorization.rejected' AND reason IN (${reasons})`, [
      { subject: 'client_id', min: t.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, describePkceDowngradeAttempt));
  },
};
