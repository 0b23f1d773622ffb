import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';
import { PostgresClientStore, type Queryable } from '@latchkey/pkce-client';
import { storeContract } from '../../libs/pkce-client/test/store-contract';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

const KEY = Buffer.alloc(32, 3).toString('base64url');

/**
 * The PKCE client's PostgreSQL store on a real database: an in-memory PGlite by default, a fresh database on
 * the PostgreSQL 15 server of DATABASE_URL under `npm run test:pg`. It creates its own tables.
 */
describe('PostgresClientStore', () => {
  let database: TestDatabase;
  let db: Queryable & { close(): Promise<void> };

  beforeAll(async () => {
    database = await createTestDatabase();
    if (database.kind === 'pglite') {
      const lite = new PGlite();
      db = { query: (text, params) => lite.query(text, params), close: () => lite.close() };
    } else {
      const pool = new Pool({ connectionString: database.url, max: 4 });
      db = { query: (text, params) => pool.query(text, params), close: () => pool.end() };
    }
  });
  afterAll(async () => {
    await db.close();
    await database.drop();
  });

  let n = 0;
  storeContract(async () => {
    const clock = { now: Date.now() };
    // a table pair per test: tests stay independent on the shared database
    const store = new PostgresClientStore({
      db,
      encryptionKey: KEY,
      tablePrefix: `lk_t${++n}`,
      now: () => clock.now,
    });
    return { store, clock };
  });

  it('creates its tables once, also when several instances start at once', async () => {
    const stores = Array.from(
      { length: 4 },
      () => new PostgresClientStore({ db, encryptionKey: KEY, tablePrefix: 'lk_race' }),
    );
    await Promise.all(stores.map((s) => s.init()));
    const { rows } = await db.query(
      `SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'lk_race%' ORDER BY 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(['lk_race_pending', 'lk_race_sessions']);
  });

  it('stores verifiers, nonces and tokens only encrypted, and another key cannot read them', async () => {
    const store = new PostgresClientStore({ db, encryptionKey: KEY, tablePrefix: 'lk_sealed' });
    const verifier = 'secret-verifier-'.padEnd(43, 'x');
    await store.savePending('state-hash', {
      sessionKey: 's',
      codeVerifier: verifier,
      nonce: 'the-nonce',
      returnTo: '/',
      expiresAt: Date.now() + 60_000,
    });
    await store.saveSession(
      'session-hash',
      {
        accessToken: 'eyJ.access',
        refreshToken: 'refresh-secret',
        accessTokenExpiresAt: 0,
        scope: 'api:read',
      },
      Date.now() + 60_000,
    );
    const { rows } = await db.query(
      `SELECT key, sealed FROM lk_sealed_pending UNION ALL SELECT key, sealed FROM lk_sealed_sessions`,
    );
    const dump = JSON.stringify(rows);
    for (const secret of [verifier, 'the-nonce', 'eyJ.access', 'refresh-secret'])
      expect(dump).not.toContain(secret);
    const other = new PostgresClientStore({
      db,
      encryptionKey: Buffer.alloc(32, 4).toString('base64url'),
      tablePrefix: 'lk_sealed',
    });
    await expect(other.getSession('session-hash')).rejects.toThrow();
  });

  it('purges expired rows', async () => {
    const clock = { now: Date.now() };
    const store = new PostgresClientStore({
      db,
      encryptionKey: KEY,
      tablePrefix: 'lk_purge',
      now: () => clock.now,
    });
    const entry = { sessionKey: 's', codeVerifier: 'v', returnTo: '/', expiresAt: clock.now + 1000 };
    await store.savePending('a', entry);
    await store.savePending('b', { ...entry, expiresAt: clock.now + 60_000 });
    clock.now += 2000;
    await store.purgeExpired();
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM lk_purge_pending`);
    expect(rows[0].n).toBe(1);
  });

  it('refuses a key that is not 32 bytes and an unsafe table prefix', () => {
    expect(() => new PostgresClientStore({ db, encryptionKey: 'short' })).toThrow(/32 bytes/);
    expect(
      () => new PostgresClientStore({ db, encryptionKey: KEY, tablePrefix: 'x; DROP TABLE users' }),
    ).toThrow(/tablePrefix/);
  });
});
