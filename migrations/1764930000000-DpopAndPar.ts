import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * DPoP (RFC 9449) and pushed authorization requests (RFC 9126):
 * - two client fields (RFC 9449 §5.2 `dpop_bound_access_tokens`, RFC 9126 §6 `require_pushed_authorization_requests`);
 * - `dpop_jkt` (RFC 7638 thumbprint, 43 base64url characters) on pending requests and codes (RFC 9449 §10: a code
 *   bound at PAR) and on refresh tokens (RFC 9449 §5: a public client's refresh token bound to its key);
 * - `dpop_proofs`: the SHA-256 of each accepted proof's (key, jti), kept until the proof could no longer be
 *   accepted anyway, so that every instance refuses a replay (RFC 9449 §11.1);
 * - `pushed_authorization_requests`: a validated request by the SHA-256 of its request_uri's random part.
 * Nullable columns and booleans with a constant default are catalog changes on PostgreSQL 11+ (no rewrite).
 */
export class DpopAndPar1764930000000 implements MigrationInterface {
  name = 'DpopAndPar1764930000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE clients
         ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false,
         ADD COLUMN require_pushed_authorization_requests boolean NOT NULL DEFAULT false`,
    );
    await q.query(`ALTER TABLE authorization_requests ADD COLUMN dpop_jkt varchar(43)`);
    await q.query(`ALTER TABLE authorization_codes ADD COLUMN dpop_jkt varchar(43)`);
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt varchar(43)`);
    await q.query(`
      CREATE TABLE dpop_proofs (
        proof_hash char(64) PRIMARY KEY,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX dpop_proofs_expiry_idx ON dpop_proofs (expires_at)`);
    await q.query(`
      CREATE TABLE pushed_authorization_requests (
        id_hash char(64) PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        params jsonb NOT NULL,
        dpop_jkt varchar(43),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX pushed_authorization_requests_expiry_idx ON pushed_authorization_requests (expires_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS pushed_authorization_requests`);
    await q.query(`DROP TABLE IF EXISTS dpop_proofs`);
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN IF EXISTS dpop_jkt`);
    await q.query(`ALTER TABLE authorization_codes DROP COLUMN IF EXISTS dpop_jkt`);
    await q.query(`ALTER TABLE authorization_requests DROP COLUMN IF EXISTS dpop_jkt`);
    await q.query(
      `ALTER TABLE clients DROP COLUMN IF EXISTS require_pushed_authorization_requests,
                           DROP COLUMN IF EXISTS dpop_bound_access_tokens`,
    );
  }
}
