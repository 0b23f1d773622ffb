import { groupedSql, GroupRow, plural, ReportRule, toFinding } from './report-rule';

export function describeUserAdminChanges(row: GroupRow, t: Record<string, number>): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)}: ${plural(Number(row.count), 'user disabled or password reset', 'users disabled or passwords reset')} ` +
    `through the admin API (threshold ${t.count}) — a bulk operation, or a compromised admin client locking users out or taking accounts over`
  );
}

/**
 * user.updated events that disabled a user or set a password (details.cause user_disabled /
 * password_changed), ≥ `count` by one acting admin client in the window.
 */
export const userAdminChangesRule: ReportRule = {
  name: 'user_admin_changes',
  severity: 'medium',
  defaults: { count: 10 },
  summary: '≥ 10 users disabled or passwords reset by one admin client',
  async query({ window, thresholds: t, sql }) {
    const q = groupedSql(
      `type = 'user.updated' AND details->>'cause' IN ('user_disabled', 'password_changed')`,
      [{ subject: 'client_id', min: t.count }],
    );
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) => toFinding(this, row, (r) => describeUserAdminChanges(r, t)));
  },
};
