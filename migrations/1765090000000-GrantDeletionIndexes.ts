import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleting a grant, a client or a user at scale (issue 18, target 4; docs/performance.md, "At scale"):
 * - authorization_codes.grant_id had `REFERENCES grants ON DELETE SET NULL` without an index, so every deleted
 *   grant (the grants purge every 5 minutes, a user's or client's deletion) scanned the codes table: a cost of
 *   the expiry rate times the codes kept (an hour of codes), i.e. the square of the traffic. The constraint goes:
 *   the column only tells which grant a replayed code must revoke (RFC 6749 §4.1.2), and a code whose grant
 *   is gone revokes nothing (the UPDATE finds no row); codes are purged an hour after expiry. It also takes one
 *   foreign-key check (a row lock on the new grant) off every code exchange. An index instead would make the
 *   exchange's UPDATE of the code (which sets grant_id) a non-HOT update with one more index entry.
 * - grants_client_idx and grants_user_idx were partial (`WHERE revoked_at IS NULL`), so the cascades from
 *   `DELETE FROM clients` / `DELETE FROM users` (which look for every grant, revoked or not) could not use them
 *   and scanned the grants table (1.3 s per client at 1 M grants). They become full indexes: a new grant adds
 *   one entry to each either way, and an index whose predicate no longer names revoked_at lets a revocation be
 *   a HOT update.
 * - consents had no index on client_id (its primary key starts with user_id): deleting a client scanned it.
 *
 * Not in a transaction: each CREATE INDEX blocks writes of its table only while it builds (about a second per
 * million grants on the development VM), and each new index exists before the one it replaces is dropped.
 * Idempotent: an interrupted run is completed by the next one.
 */
export class GrantDeletionIndexes1765090000000 implements MigrationInterface {
  name = 'GrantDeletionIndexes1765090000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE authorization_codes DROP CONSTRAINT IF EXISTS authorization_codes_grant_id_fkey`,
    );
    await q.query(`CREATE INDEX IF NOT EXISTS grants_client_all_idx ON grants (client_id)`);
    await q.query(`DROP INDEX IF EXISTS grants_client_idx`);
    await q.query(`CREATE INDEX IF NOT EXISTS grants_user_all_idx ON grants (user_id, client_id)`);
    await q.query(`DROP INDEX IF EXISTS grants_user_idx`);
    await q.query(`CREATE INDEX IF NOT EXISTS consents_client_idx ON consents (client_id)`);
  }

  /** (TypeORM's undo runs this in a transaction whatever `transaction` says.) */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS consents_client_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS grants_user_idx ON grants (user_id, client_id) WHERE revoked_at IS NULL`,
    );
    await q.query(`DROP INDEX IF EXISTS grants_user_all_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS grants_client_idx ON grants (client_id) WHERE revoked_at IS NULL`,
    );
    await q.query(`DROP INDEX IF EXISTS grants_client_all_idx`);
    // codes whose grant is gone lose the reference, as ON DELETE SET NULL would have done
    await q.query(
      `UPDATE authorization_codes ac SET grant_id = NULL
        WHERE ac.grant_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM grants g WHERE g.id = ac.grant_id)`,
    );
    await q.query(
      `ALTER TABLE authorization_codes ADD CONSTRAINT authorization_codes_grant_id_fkey
         FOREIGN KEY (grant_id) REFERENCES grants (id) ON DELETE SET NULL`,
    );
  }
}
