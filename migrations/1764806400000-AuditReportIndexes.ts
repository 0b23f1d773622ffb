import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the security report needs to stay fast over millions of audit events (bench/audit.mjs):
 * - request_first / request_first_failure: set when the event is stored (the audit listener knows whether
 *   its request already had an event / a failure event), so that "distinct request_id" and "distinct
 *   request_id with a failure" become filtered counts in the same scan as by_type, instead of a hash
 *   aggregate over every request id of the window;
 * - partial indexes for the rules: reason codes, failures by IP (the sliding-window burst), and the
 *   challenge hash of issued codes (challenge_reuse).
 * Adding nullable columns is a catalog change (no table rewrite); partial indexes stay small.
 */
export class AuditReportIndexes1764806400000 implements MigrationInterface {
  name = 'AuditReportIndexes1764806400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE audit_events ADD COLUMN request_first boolean, ADD COLUMN request_first_failure boolean`,
    );
    await q.query(
      `CREATE INDEX audit_events_reason_idx ON audit_events (reason, occurred_at) WHERE reason IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX audit_events_failure_ip_idx ON audit_events (ip, occurred_at) WHERE outcome = 'failure'`,
    );
    await q.query(
      `CREATE INDEX audit_events_challenge_idx ON audit_events ((details->>'challenge_sha256'), occurred_at)
        WHERE type = 'authorization_code.issued'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS audit_events_challenge_idx`);
    await q.query(`DROP INDEX IF EXISTS audit_events_failure_ip_idx`);
    await q.query(`DROP INDEX IF EXISTS audit_events_reason_idx`);
    await q.query(
      `ALTER TABLE audit_events DROP COLUMN IF EXISTS request_first_failure, DROP COLUMN IF EXISTS request_first`,
    );
  }
}
