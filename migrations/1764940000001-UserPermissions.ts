import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Permissions of end users for Latchkey's own pages (today only `audit:read`: the audit console, see
 * docs/audit-in-the-browser.md). A table of its own rather than a column of `users`: a user holds any number of
 * them, each grant is a row with its time, and the users table stays the users module's.
 */
export class UserPermissions1764940000001 implements MigrationInterface {
  name = 'UserPermissions1764940000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE user_permissions (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        permission varchar(64) NOT NULL,
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, permission)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_permissions`);
  }
}
