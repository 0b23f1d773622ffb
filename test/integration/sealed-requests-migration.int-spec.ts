import { sql } from '../../src/database/sql';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Migration 1764950000000 (pending authorization requests travel sealed): `authorization_requests` keeps only
 * the marks of used requests; requests pending at the upgrade are dropped (they live 10 minutes), and `down`
 * restores the previous columns. Runs on PGlite and on PostgreSQL 15 (test:pg).
 */
describe('migration SealedAuthorizationRequests1764950000000', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const columns = async () =>
    (
      await sql<{ column_name: string }>(
        t.dataSource,
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'authorization_requests'
          ORDER BY column_name`,
      )
    ).map((r) => r.column_name);

  it('drops the stored requests and their columns, and down brings the columns back', async () => {
    expect(await columns()).toEqual(['created_at', 'expires_at', 'id_hash']);
    // (the migrations after it are undone first, newest first)
    const appliedNames = async () =>
      (await sql<{ name: string }>(t.dataSource, `SELECT name FROM migrations`)).map((r) => r.name);
    while ((await appliedNames()).includes('SealedAuthorizationRequests1764950000000'))
      await t.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await columns()).toEqual(
      expect.arrayContaining(['client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'dpop_jkt']),
    );
    await sql(
      t.dataSource,
      `INSERT INTO clients (client_id, client_name, token_endpoint_auth_method, redirect_uris, grant_types, scope)
       VALUES ('sealed-app', 'App', 'none', '{http://127.0.0.1/cb}', '{authorization_code}', 'api:read')`,
    );
    await sql(
      t.dataSource,
      `INSERT INTO authorization_requests (id_hash, client_id, redirect_uri, scope, state, code_challenge, expires_at)
       VALUES ($1, 'sealed-app', 'http://127.0.0.1/cb', 'api:read', 'xyz', $2, now() + interval '10 minutes')`,
      ['b'.repeat(64), 'c'.repeat(43)],
    );

    const applied = await t.dataSource.runMigrations({ transaction: 'each' });
    // this migration first, then the later ones that were undone with it
    expect(applied.map((m) => m.name)[0]).toBe('SealedAuthorizationRequests1764950000000');
    expect(await columns()).toEqual(['created_at', 'expires_at', 'id_hash']);
    const [{ n }] = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM authorization_requests`,
    );
    expect(Number(n)).toBe(0);
    const [{ c }] = await sql<{ c: number }>(
      t.dataSource,
      `SELECT count(*)::int AS c FROM clients WHERE client_id = 'sealed-app'`,
    );
    expect(Number(c)).toBe(1);
  });
});
