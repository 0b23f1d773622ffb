import { rangesSql } from '../audit-rollup-coverage';
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
 *
 * Every issued code of the window takes part, so first, in one snapshot: the 64-bit hashes of the challenge
 * hashes that occur ≥ `count` times — from the hours' rollups where they are valid, from the rows elsewhere
 * — sorted, not hashed (cheaper for some 10^5 integers); then the grouped findings over the events with
 * those hashes only (found through their index). A hash collision only adds events that the exact grouping
 * by challenge hash then keeps apart.
 */
export const challengeReuseRule: ReportRule = {
  name: 'challenge_reuse',
  severity: 'high',
  defaults: { count: 2 },
  summary: 'the same code_challenge (compared by hash) in more than one authorization code',
  async query({ window, thresholds: t, withRollups }) {
    const min = threshold(t.count, 2);
    const rows = await withRollups(async (sql, { rolledUp, raw }) => {
      const params: unknown[] = [min];
      const parts: string[] = [];
      if (raw.length)
        parts.push(`SELECT ${CHALLENGE_HASH_SQL} AS h FROM audit_events
                     WHERE ${CHALLENGE_EVENT_SQL} AND (${rangesSql('occurred_at', raw, params)})`);
      if (rolledUp.length)
        parts.push(`SELECT unnest(challenge_hashes) AS h FROM audit_rollup_hours
                     WHERE type = 'authorization_code.issued' AND (${rangesSql('hour', rolledUp, params)})`);
      if (parts.length === 0) return [];
      const repeated = await sql<{ h: string }>(
        `SELECT h::text AS h FROM (SELECT h FROM (${parts.join(' UNION ALL ')}) u ORDER BY h) s
          GROUP BY h HAVING count(*) >= $1`,
        params,
      );
      if (repeated.length === 0) return [];
      return sql<GroupRow>(
        groupedFindingsSql(
          eventsWhere(
            `${CHALLENGE_EVENT_SQL} AND ${CHALLENGE_HASH_SQL} = ANY($4::bigint[])`,
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
        [window.from, window.to, min, repeated.map((r) => r.h)],
      );
    });
    return rows
      .filter((row) => row.subject_value !== null)
      .map((row) => toFinding(this, row, (r) => describeChallengeReuse(r, t)));
  },
};
