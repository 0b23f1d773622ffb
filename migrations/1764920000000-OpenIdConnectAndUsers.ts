import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OpenID Connect and user administration (issue 15):
 * - users gain a profile (`name`, `email`, `email_verified`) and `enabled`; existing users keep every column
 *   and become enabled users without a name or email (adding columns with constant defaults is a catalog
 *   change on PostgreSQL 11+, no table rewrite);
 * - sessions gain `sid`, the OIDC session id put in id_tokens (never the cookie's secret or its hash);
 *   `created_at` is the session's `auth_time` (a new session at every login);
 * - the pending request carries `nonce`, `min_auth_time` (prompt=login / max_age: a session authenticated
 *   before it must sign in again) and `force_consent` (prompt=consent); codes and grants carry `nonce`,
 *   `auth_time` and `sid` so that the token endpoint (and every refresh) can issue the id_token;
 * - clients gain `post_logout_redirect_uris` (RP-Initiated Logout 1.0 §3.1);
 * - indexes for the admin API: users by (created_at, id) for cursor pagination, live grants by user.
 */
export class OpenIdConnectAndUsers1764920000000 implements MigrationInterface {
  name = 'OpenIdConnectAndUsers1764920000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users
      ADD COLUMN name varchar(200),
      ADD COLUMN email varchar(320),
      ADD COLUMN email_verified boolean NOT NULL DEFAULT false,
      ADD COLUMN enabled boolean NOT NULL DEFAULT true`);
    await q.query(`CREATE INDEX users_created_idx ON users (created_at, id)`);
    await q.query(`ALTER TABLE sessions ADD COLUMN sid uuid NOT NULL DEFAULT gen_random_uuid()`);
    await q.query(`ALTER TABLE authorization_requests
      ADD COLUMN nonce varchar(255),
      ADD COLUMN min_auth_time timestamptz,
      ADD COLUMN force_consent boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE authorization_codes
      ADD COLUMN nonce varchar(255),
      ADD COLUMN auth_time timestamptz,
      ADD COLUMN sid uuid`);
    await q.query(`ALTER TABLE grants
      ADD COLUMN nonce varchar(255),
      ADD COLUMN auth_time timestamptz,
      ADD COLUMN sid uuid`);
    await q.query(`CREATE INDEX grants_user_idx ON grants (user_id, client_id) WHERE revoked_at IS NULL`);
    await q.query(`ALTER TABLE clients ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE clients DROP COLUMN IF EXISTS post_logout_redirect_uris`);
    await q.query(`DROP INDEX IF EXISTS grants_user_idx`);
    await q.query(`ALTER TABLE grants DROP COLUMN IF EXISTS sid, DROP COLUMN IF EXISTS auth_time,
      DROP COLUMN IF EXISTS nonce`);
    await q.query(`ALTER TABLE authorization_codes DROP COLUMN IF EXISTS sid, DROP COLUMN IF EXISTS auth_time,
      DROP COLUMN IF EXISTS nonce`);
    await q.query(`ALTER TABLE authorization_requests DROP COLUMN IF EXISTS force_consent,
      DROP COLUMN IF EXISTS min_auth_time, DROP COLUMN IF EXISTS nonce`);
    await q.query(`ALTER TABLE sessions DROP COLUMN IF EXISTS sid`);
    await q.query(`DROP INDEX IF EXISTS users_created_idx`);
    await q.query(`ALTER TABLE users DROP COLUMN IF EXISTS enabled, DROP COLUMN IF EXISTS email_verified,
      DROP COLUMN IF EXISTS email, DROP COLUMN IF EXISTS name`);
  }
}
