import {
  eventsWhere,
  groupedFindingsSql,
  GroupRow,
  plural,
  ReportRule,
  threshold,
  toFinding,
} from './report-rule';

/** The events challenge_reuse reads, and the 64-bit hash of their challenge hash it compares first. */
export const CHALLENGE_EVENT_SQL = `type = 'authorization_code.issued' AND details->>'challenge_sha256' IS NOT NULL`;
/** hashtextextended: the hash of hash partitioning, the same on every platform and version. */
export const CHALLENGE_HASH_SQL = `hashtextextended(details->>'challenge_sha256', 0)`;

export function describeChallengeReuse(row: GroupRow, t: Record<string, number>): string {
  const clients = Number(row.clients);
  return (
    `client_id ${JSON.stringify(row.subject_value)}${clients > 1 ? ` and ${plural(clients - 1, 'other client')}` : ''}: ` +
    `the same code_challenge (SHA-256 ${String(row.challenge_hash).slice(0, 12)}…) in ` +
    `${plural(Number(row.count), 'authorization code')} (threshold ${t.count}) — ` +
    `a constant challenge defeats PKCE (RFC 9700 §2.1.1)`
  );
}

/**
 * authorization_code.issued sharing details.challenge_sha256 (docs/audit.md: the SHA-256 of the challenge,
 * never the challenge itself) at least `count` times. Subject: the (first) client that used it.
 */
export const challengeReuseRule: ReportRule = {
  name: 'challenge_reuse',
  severity: 'high',
  defaults: { count: 2 },
  summary: 'the same code_challenge (compared by hash) in more than one authorization code',
  async query({ window, thresholds: t, sql }) {
    const rows = await sql<GroupRow>(
      groupedFindingsSql(
        eventsWhere(
          `type = 'authorization_code.issued' AND details->>'challenge_sha256' IS NOT NULL`,
          `id, occurred_at, client_id, details->>'challenge_sha256' AS challenge`,
        ),
        [
          {
            subject: 'client_id',
            key: 'challenge',
            label: 'min(e.client_id)',
            extra: 'count(DISTINCT e.client_id)::int AS clients, g.k AS challenge_hash',
            min: Math.max(2, t.count),
          },
        ],
        ['clients', 'challenge_hash'],
      ),
      [window.from, window.to, threshold(t.count, 2)],
    );
    return rows
      .filter((row) => row.subject_value !== null)
      .map((row) => toFinding(this, row, (r) => describeChallengeReuse(r, t)));
  },
};
