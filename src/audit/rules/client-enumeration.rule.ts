import {
  eventsWhere,
  groupedFindingsSql,
  GroupRow,
  plural,
  ReportRule,
  threshold,
  toFinding,
} from './report-rule';

export function describeClientEnumeration(row: GroupRow, t: Record<string, number>): string {
  return (
    `IP ${row.subject_value}: ${plural(Number(row.count), 'unknown client_id')} tried ` +
    `in ${plural(Number(row.attempts), 'request')} (threshold ${t.distinct_clients}) — client id enumeration`
  );
}

/**
 * unknown_client in authorization.rejected and client.authentication_failed: one IP presenting
 * ≥ `distinct_clients` distinct unknown client_ids. The finding's count is the number of distinct ids.
 */
export const clientEnumerationRule: ReportRule = {
  name: 'client_enumeration',
  severity: 'medium',
  defaults: { distinct_clients: 5 },
  summary: 'one IP presenting ≥ 5 distinct unknown client_ids',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      groupedFindingsSql(
        eventsWhere(
          `reason = 'unknown_client' AND ip IS NOT NULL
           AND type IN ('authorization.rejected', 'client.authentication_failed')`,
        ),
        [
          {
            subject: 'ip',
            key: 'ip',
            label: 'host(g.k)',
            distinct: 'client_id',
            extra: 'count(*)::int AS attempts',
            min: t.distinct_clients,
          },
        ],
        ['attempts'],
      ),
      [window.from, window.to, threshold(t.distinct_clients)],
    );
    return rows.map((row) => toFinding(this, row, (r) => describeClientEnumeration(r, t)));
  },
};
