import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole initial schema. Runs unchanged on PostgreSQL 15+ and on PGlite (PostgreSQL 18).
 * Codes, refresh tokens, client secrets and session ids are stored only as SHA-256 hex digests;
 * user passwords only as scrypt hashes.
 */
export class InitialSchema1764201600000 implements MigrationInterface {
  name = 'InitialSchema1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE clients (
        client_id varchar(64) PRIMARY KEY,
        client_name varchar(200) NOT NULL,
        token_endpoint_auth_method varchar(32) NOT NULL,
        secret_hash char(64),
        previous_secret_hash char(64),
        previous_secret_expires_at timestamptz,
        redirect_uris text[] NOT NULL DEFAULT '{}',
        grant_types text[] NOT NULL,
        scope text NOT NULL DEFAULT '',
        require_consent boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        created_by varchar(64),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX clients_created_idx ON clients (created_at, client_id)`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username varchar(100) NOT NULL,
        username_normalized varchar(100) NOT NULL UNIQUE,
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE sessions (
        id_hash char(64) PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        idle_expires_at timestamptz NOT NULL,
        absolute_expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sessions_user_idx ON sessions (user_id)`);
    await q.query(`CREATE INDEX sessions_expiry_idx ON sessions (idle_expires_at)`);

    // A validated authorization request waiting for login and/or consent (keyed by an opaque id's hash).
    await q.query(`
      CREATE TABLE authorization_requests (
        id_hash char(64) PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        redirect_uri text NOT NULL,
        scope text NOT NULL,
        state text,
        code_challenge varchar(43) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX authorization_requests_expiry_idx ON authorization_requests (expires_at)`);

    await q.query(`
      CREATE TABLE consents (
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        client_id varchar(64) NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        scope text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, client_id)
      )`);

    // Every token belongs to a grant; revoking the grant revokes all of its tokens at once.
    await q.query(`
      CREATE TABLE grants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id varchar(64) NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        user_id uuid REFERENCES users(id) ON DELETE CASCADE,
        grant_type varchar(32) NOT NULL,
        scope text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoke_cause varchar(32)
      )`);
    await q.query(`CREATE INDEX grants_client_idx ON grants (client_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX grants_expiry_idx ON grants (expires_at)`);

    await q.query(`
      CREATE TABLE authorization_codes (
        code_hash char(64) PRIMARY KEY,
        client_id varchar(64) NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        redirect_uri text NOT NULL,
        scope text NOT NULL,
        code_challenge varchar(43) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        consumed_at timestamptz,
        grant_id uuid REFERENCES grants(id) ON DELETE SET NULL
      )`);
    await q.query(`CREATE INDEX authorization_codes_expiry_idx ON authorization_codes (expires_at)`);

    await q.query(`
      CREATE TABLE refresh_tokens (
        token_hash char(64) PRIMARY KEY,
        grant_id uuid NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
        client_id varchar(64) NOT NULL,
        scope text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        rotated_at timestamptz,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id)`);
    await q.query(`CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at)`);

    // Access tokens are JWTs; a revoked one is remembered by jti until it would have expired.
    await q.query(`
      CREATE TABLE revoked_access_tokens (
        jti uuid PRIMARY KEY,
        grant_id uuid,
        revoked_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX revoked_access_tokens_expiry_idx ON revoked_access_tokens (expires_at)`);

    await q.query(`
      CREATE TABLE signing_keys (
        kid varchar(64) PRIMARY KEY,
        alg varchar(16) NOT NULL,
        public_jwk jsonb NOT NULL,
        private_key_encrypted text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        activates_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz,
        expires_at timestamptz
      )`);

    // Brute-force protection state shared by all instances (kind: 'user' | 'client').
    await q.query(`
      CREATE TABLE lockouts (
        kind varchar(16) NOT NULL,
        key varchar(200) NOT NULL,
        failures integer NOT NULL DEFAULT 0,
        level integer NOT NULL DEFAULT 0,
        locked_until timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, key)
      )`);

    // Fixed-window rate-limit counters shared by all instances.
    await q.query(`
      CREATE TABLE rate_limits (
        key varchar(300) PRIMARY KEY,
        window_start timestamptz NOT NULL,
        hits integer NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX rate_limits_expiry_idx ON rate_limits (expires_at)`);

    // Audit trail: range-partitioned by day so that retention drops whole partitions (no long locks).
    await q.query(`CREATE SEQUENCE audit_events_id_seq AS bigint`);
    await q.query(`
      CREATE TABLE audit_events (
        id bigint NOT NULL DEFAULT nextval('audit_events_id_seq'),
        occurred_at timestamptz NOT NULL DEFAULT now(),
        type varchar(64) NOT NULL,
        outcome varchar(8) NOT NULL,
        error_code varchar(64),
        reason varchar(64),
        client_id varchar(128),
        subject varchar(128),
        ip inet,
        user_agent varchar(512),
        duration_ms integer,
        request_id varchar(64),
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (occurred_at, id)
      ) PARTITION BY RANGE (occurred_at)`);
    await q.query(`CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT`);
    await q.query(`CREATE INDEX audit_events_type_idx ON audit_events (type, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_ip_idx ON audit_events (ip, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_client_idx ON audit_events (client_id, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_outcome_idx ON audit_events (outcome, occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_events',
      'rate_limits',
      'lockouts',
      'signing_keys',
      'revoked_access_tokens',
      'refresh_tokens',
      'authorization_codes',
      'grants',
      'consents',
      'authorization_requests',
      'sessions',
      'users',
      'clients',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table} CASCADE`);
    }
    await q.query(`DROP SEQUENCE IF EXISTS audit_events_id_seq`);
  }
}
