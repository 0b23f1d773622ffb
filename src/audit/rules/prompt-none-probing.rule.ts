import {
  eventsWhere,
  groupedFindingsSql,
  GroupRow,
  plural,
  ReportRule,
  threshold,
  toFinding,
} from './report-rule';

export function describePromptNoneProbing(row: GroupRow, t: Record<string, number>): string {
  return (
    `client_id ${JSON.stringify(row.subject_value)} from IP ${String(row.probe_ip)}: ` +
    `${plural(Number(row.count), 'prompt=none request')} answered login_required (threshold ${t.count}) — ` +
    'a page silently probing whether its visitors are signed in (login detection), or a broken silent renew'
  );
}

/**
 * authorization.rejected / login_required (prompt=none without a session, OIDC Core §3.1.2.6): ≥ `count`
 * for one client from one IP in the window. Grouped by the (client_id, ip) pair.
 */
export const promptNoneProbingRule: ReportRule = {
  name: 'prompt_none_probing',
  severity: 'medium',
  defaults: { count: 20 },
  summary: '≥ 20 login_required answers to prompt=none for one client from one IP',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      groupedFindingsSql(
        eventsWhere(
          `type = 'authorization.rejected' AND reason = 'login_required'`,
          `id, occurred_at, client_id, ip, (client_id || ' ' || host(ip)) AS pair`,
        ),
        [
          {
            subject: 'client_id',
            key: 'pair',
            label: 'min(e.client_id)',
            extra: 'min(host(e.ip)) AS probe_ip',
            min: t.count,
          },
        ],
        ['probe_ip'],
      ),
      [window.from, window.to, threshold(t.count)],
    );
    return rows.map((row) => toFinding(this, row, (r) => describePromptNoneProbing(r, t)));
  },
};
