import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer and cheaper index entries per audit event (issue 18; docs/audit.md, Performance, has the table of
 * every index of audit_events, who reads it and what it costs):
 * - (outcome, occurred_at) indexed every event under one of two values; only failures (~14 %) need an
 *   index to be found in time order (GET /audit/events?outcome=failure, failure_rate_spike's samples):
 *   a partial index on their time replaces it. Successes are found as fast through the primary key.
 * - challenge_reuse compared the challenge hashes (64 characters) of every issued code through the rows;
 *   it now compares 64-bit hashes of them (rolled up for closed days) and reads only the events of the
 *   repeated ones, through an index on that 64-bit hash instead of the text.
 * - login_bruteforce read every failed login's row (4 % of events, spread over every page of the table);
 *   a partial index holding the columns it reads serves it without reading rows.
 *
 * Not in a transaction: each statement commits on its own, so a CREATE INDEX blocks audit inserts only while it
 * builds (4–6 s each at 10 M events on the development VM) instead of for the whole migration, and a new index
 * exists before the one it replaces is dropped. (CREATE INDEX CONCURRENTLY per partition was tried: it waits for
 * every snapshot older than its own, including that of another instance waiting for the migration lock, which
 * waits for it — a stall until the pool's 15 s query timeout.) Idempotent: an interrupted run is completed by
 * the next one.
 */
export class AuditEventIndexes1764963600000 implements MigrationInterface {
  name = 'AuditEventIndexes1764963600000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_failure_time_idx ON audit_events (occurred_at) WHERE outcome = 'failure'`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_outcome_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_challenge_hash_idx
         ON audit_events ((hashtextextended(details->>'challenge_sha256', 0)), occurred_at)
        WHERE type = 'authorization_code.issued'`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_challenge_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_login_failed_idx
         ON audit_events (occurred_at) INCLUDE (subject, ip, reason, id) WHERE type = 'login.failed'`,
    );
  }

  /** (TypeORM's undo runs this in a transaction whatever `transaction` says.) */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS audit_events_login_failed_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_challenge_idx ON audit_events ((details->>'challenge_sha256'), occurred_at)
        WHERE type = 'authorization_code.issued'`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_challenge_hash_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_outcome_idx ON audit_events (outcome, occurred_at)`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_failure_time_idx`);
  }
}
