import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Pending authorization requests travel sealed through the login and consent pages instead of being stored
 * before anyone signs in (issue 20: an unauthenticated `GET /oauth/authorize` stored ~2 KB for 10 minutes).
 * `authorization_requests` keeps only the use of a request: the SHA-256 of its random id until it expires.
 * Requests pending at the upgrade are dropped (they live 10 minutes; their users see "this sign-in request has
 * expired" and start again from the application).
 */
export class SealedAuthorizationRequests1764950000000 implements MigrationInterface {
  name = 'SealedAuthorizationRequests1764950000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM authorization_requests`);
    await q.query(`ALTER TABLE authorization_requests
      DROP COLUMN client_id, DROP COLUMN redirect_uri, DROP COLUMN scope, DROP COLUMN state,
      DROP COLUMN code_challenge, DROP COLUMN nonce, DROP COLUMN min_auth_time, DROP COLUMN force_consent,
      DROP COLUMN dpop_jkt`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM authorization_requests`);
    await q.query(`ALTER TABLE authorization_requests
      ADD COLUMN client_id varchar(64) NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
      ADD COLUMN redirect_uri text NOT NULL, ADD COLUMN scope text NOT NULL, ADD COLUMN state text,
      ADD COLUMN code_challenge varchar(43) NOT NULL, ADD COLUMN nonce varchar(255),
      ADD COLUMN min_auth_time timestamptz, ADD COLUMN force_consent boolean NOT NULL DEFAULT false,
      ADD COLUMN dpop_jkt varchar(43)`);
  }
}
