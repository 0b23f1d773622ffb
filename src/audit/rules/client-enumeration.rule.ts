import {
  GroupRow,
  IN_WINDOW,
  MAX_FINDINGS_PER_RULE,
  plural,
  ReportRule,
  SAMPLE_IDS_SQL,
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
      `SELECT 'ip' AS subject_type, host(ip) AS subject_value, count(DISTINCT client_id)::int AS count,
              count(*)::int AS attempts, min(occurred_at) AS first_seen, max(occurred_at) AS last_seen,
              ${SAMPLE_IDS_SQL} AS sample_ids
         FROM audit_events
        WHERE ${IN_WINDOW} AND reason = 'unknown_client' AND ip IS NOT NULL
          AND type IN ('authorization.rejected', 'client.authentication_failed')
        GROUP BY ip HAVING count(DISTINCT client_id) >= $3
        ORDER BY count DESC, subject_value
        LIMIT ${MAX_FINDINGS_PER_RULE}`,
      [window.from, window.to, Math.max(1, Math.ceil(t.distinct_clients))],
    );
    return rows.map((row) => toFinding(this, row, (r) => describeClientEnumeration(r, t)));
  },
};
