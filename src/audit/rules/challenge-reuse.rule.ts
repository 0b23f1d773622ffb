import {
  GroupRow,
  IN_WINDOW,
  MAX_FINDINGS_PER_RULE,
  plural,
  ReportRule,
  SAMPLE_IDS_SQL,
  toFinding,
} from './report-rule';

export function describeChallengeReuse(row: GroupRow, t: Record<string, number>): string {
  const clients = Number(row.clients);
  return (
    `client_id ${JSON.stringify(row.subject_value)}${clients > 1 ? ` and ${plural(clients - 1, 'other client')}` : ''}: ` +
    `the same code_challenge (SHA-256 ${String(row.challenge).slice(0, 12)}…) in ` +
    `${plural(Number(row.count), 'authorization code')} (threshold ${t.count}) — ` +
    `a constant challenge defeats PKCE (RFC 9700 §2.1.1)`
  );
}

/**
 * authorization_code.issued sharing details.challenge_sha256 (EVENTS.md: the SHA-256 of the challenge,
 * never the challenge itself) at least `count` times. Subject: the (first) client that used it.
 */
export const challengeReuseRule: ReportRule = {
  name: 'challenge_reuse',
  severity: 'high',
  defaults: { count: 2 },
  summary: 'the same code_challenge (compared by hash) in more than one authorization code',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      `SELECT 'client_id' AS subject_type, min(client_id) AS subject_value, count(*)::int AS count,
              count(DISTINCT client_id)::int AS clients, details->>'challenge_sha256' AS challenge,
              min(occurred_at) AS first_seen, max(occurred_at) AS last_seen, ${SAMPLE_IDS_SQL} AS sample_ids
         FROM audit_events
        WHERE ${IN_WINDOW} AND type = 'authorization_code.issued'
          AND details->>'challenge_sha256' IS NOT NULL
        GROUP BY details->>'challenge_sha256' HAVING count(*) >= $3
        ORDER BY count DESC, challenge
        LIMIT ${MAX_FINDINGS_PER_RULE}`,
      [window.from, window.to, Math.max(2, Math.ceil(t.count))],
    );
    return rows
      .filter((row) => row.subject_value !== null)
      .map((row) => toFinding(this, row, (r) => describeChallengeReuse(r, t)));
  },
};
