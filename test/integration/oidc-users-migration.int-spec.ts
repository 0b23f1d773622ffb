import { sql } from '../../src/database/sql';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Migration 1764920000000 (OpenID Connect and user administration) on a database holding data of the
 * previous schema: existing users, sessions, grants and clients survive the upgrade with the documented
 * defaults, and `down` restores the previous schema. Runs on PGlite and on PostgreSQL 15 (test:pg).
 */
describe('migration OpenIdConnectAndUsers1764920000000', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const columns = async (table: string) =>
    (
      await sql<{ column_name: string }>(
        t.dataSource,
        `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name`,
        [table],
      )
    ).map((r) => r.column_name);

  it('keeps existing users, sessions, grants and clients through down and up', async () => {
    // back to the previous schema, as an existing installation has it
    // (the migrations after it are undone first, newest first)
    const appliedNames = async () =>
      (await sql<{ name: string }>(t.dataSource, `SELECT name FROM migrations`)).map((r) => r.name);
    while ((await appliedNames()).includes('OpenIdConnectAndUsers1764920000000'))
      await t.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await columns('users')).not.toContain('email');
    expect(await columns('clients')).not.toContain('post_logout_redirect_uris');

    const [user] = await sql<{ id: string }>(
      t.dataSource,
      `INSERT INTO users (username, username_normalized, password_hash)
       VALUES ('Legacy', 'legacy', '$scrypt$ln=15,r=8,p=1$abc$def') RETURNING id`,
    );
    await sql(
      t.dataSource,
      `INSERT INTO clients (client_id, client_name, token_endpoint_auth_method, redirect_uris, grant_types, scope)
       VALUES ('legacy-app', 'Legacy app', 'none', '{http://127.0.0.1/cb}', '{authorization_code}', 'api:read')`,
    );
    await sql(
      t.dataSource,
      `INSERT INTO sessions (id_hash, user_id, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, now() + interval '1 hour', now() + interval '1 day')`,
      ['a'.repeat(64), user.id],
    );
    await sql(
      t.dataSource,
      `INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at)
       VALUES ('legacy-app', $1, 'authorization_code', 'api:read', now() + interval '1 day')`,
      [user.id],
    );

    const applied = await t.dataSource.runMigrations({ transaction: 'each' });
    // this migration first, then the later ones that were undone with it
    expect(applied.map((m) => m.name)[0]).toBe('OpenIdConnectAndUsers1764920000000');

    const [migrated] = await sql<Record<string, unknown>>(
      t.dataSource,
      `SELECT username, username_normalized, password_hash, name, email, email_verified, enabled
         FROM users WHERE id = $1`,
      [user.id],
    );
    expect(migrated).toEqual({
      username: 'Legacy',
      username_normalized: 'legacy',
      password_hash: '$scrypt$ln=15,r=8,p=1$abc$def',
      name: null,
      email: null,
      email_verified: false,
      enabled: true,
    });
    const [session] = await sql<{ sid: string }>(t.dataSource, `SELECT sid::text AS sid FROM sessions`);
    expect(session.sid).toMatch(/^[0-9a-f-]{36}$/);
    const [client] = await sql<{ uris: string[] }>(
      t.dataSource,
      `SELECT post_logout_redirect_uris AS uris FROM clients WHERE client_id = 'legacy-app'`,
    );
    expect(client.uris).toEqual([]);
    const [grant] = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM grants WHERE user_id = $1 AND nonce IS NULL AND sid IS NULL`,
      [user.id],
    );
    expect(grant.n).toBe(1);
  });
});
