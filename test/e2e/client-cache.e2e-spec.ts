import request from 'supertest';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { adminCaller, createClient, type TestClient } from '../factories/clients';
import { basicAuth, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The per-instance client cache (CLIENT_CACHE_TTL_MS, default 1000 ms) behind the authorize and token
 * endpoints: changes through this instance's admin API are seen at once, changes behind its back (another
 * instance, the database) within the TTL; unknown clients are never remembered; a secret rotated elsewhere
 * works at once.
 */
describe('client cache (CLIENT_CACHE_TTL_MS)', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof adminCaller>>;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    admin = await adminCaller(t, 'clients:read clients:write');
  });
  afterAll(() => t.close());

  const credentials = (client: TestClient, secret = client.clientSecret!) =>
    request(t.url)
      .post('/oauth/token')
      .set('Authorization', basicAuth(client.clientId, secret))
      .type('form')
      .send({ grant_type: 'client_credentials' });
  const m2m = () => createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });

  it('honours a client disabled through this instance’s admin API at once', async () => {
    const client = await m2m();
    await credentials(client).expect(200); // its row is now cached
    await request(t.url)
      .patch(`/admin/clients/${client.clientId}`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send({ enabled: false })
      .expect(200);
    expect((await credentials(client)).status).toBe(401);
  });

  it('honours a change made behind its back (another instance, the database) within the TTL', async () => {
    const client = await m2m();
    await credentials(client).expect(200);
    await sql(t.dataSource, `UPDATE clients SET enabled = false WHERE client_id = $1`, [client.clientId]);
    const changedAt = Date.now();
    // within the TTL the remembered row still answers (this is the cache at work) …
    expect((await credentials(client)).status).toBe(200);
    // … and once it has passed, the database's state
    await new Promise((r) => setTimeout(r, Math.max(0, 1050 - (Date.now() - changedAt))));
    expect((await credentials(client)).status).toBe(401);
  });

  it('accepts at once a secret rotated behind its back, by checking a refused secret against the database', async () => {
    const client = await m2m();
    await credentials(client).expect(200);
    const next = randomToken();
    await sql(t.dataSource, `UPDATE clients SET secret_hash = $2 WHERE client_id = $1`, [
      client.clientId,
      sha256Hex(next),
    ]);
    expect((await credentials(client, next)).status).toBe(200);
    expect((await credentials(client, 'wrong')).status).toBe(401);
  });

  it('never remembers an unknown client: one registered afterwards works at once', async () => {
    const clientId = `c-${randomToken(9)}`;
    const ghost: TestClient = {
      clientId,
      clientName: `Test ${clientId}`,
      clientSecret: randomToken(),
      authMethod: 'client_secret_basic',
      redirectUri: '',
      redirectUris: [],
      scope: 'api:read',
    };
    expect((await credentials(ghost)).status).toBe(401);
    const client = await createClient(t, {
      clientId,
      secret: ghost.clientSecret!,
      grantTypes: ['client_credentials'],
      scope: 'api:read',
    });
    expect((await credentials(client)).status).toBe(200);
  });
});
