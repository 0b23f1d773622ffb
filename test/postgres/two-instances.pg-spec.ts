import { jest } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { KeyStore } from '../../src/keys/key-store.service';
import { loginAndConsent } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { dpopKey, dpopProof } from '../factories/dpop';
import { basicAuth, TOKEN_TEST_ENV } from '../factories/tokens';
import { AppProcess, startAppProcess } from '../helpers/app-process';
import { createTestApp, TestApp } from '../helpers/test-app';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';
import { type TestClient, createClient } from '../factories/clients';

jest.setTimeout(90_000);

/**
 * Issue 8 §6: two instances on one PostgreSQL database behind one issuer name: `a` runs in this process (the
 * factories use its services), `b` is the built server started as its own OS process (`node dist/src/main.js`).
 * Nothing is cached per instance that could contradict the database for longer than documented.
 */
describe('two instances on one PostgreSQL database', () => {
  const ISSUER = 'http://latchkey.test';
  let db: TestDatabase;
  let a: TestApp;
  let b: AppProcess;
  let app: TestClient; // public SPA client with refresh tokens
  let rs: TestClient; // resource server (introspection)

  beforeAll(async () => {
    db = await createTestDatabase();
    // KEY_PUBLISH_DELAY 0s: the test checks signing with a rotated key at once (the default waits 75 s)
    const env = { ...TOKEN_TEST_ENV, ISSUER, KEY_PUBLISH_DELAY: '0s' };
    a = await createTestApp(env, { database: db });
    b = await startAppProcess({ ...env, DATABASE_URL: db.url, DATA_DIR: db.dataDir });
    app = await createClient(a, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:9999/cb'],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'api:read',
    });
    rs = await createClient(a, { grantTypes: ['client_credentials'], scope: 'api:read' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const exchange = (t: { url: string }, code: string, verifier: string) =>
    request(t.url).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code',
      client_id: app.clientId,
      code,
      redirect_uri: app.redirectUri,
      code_verifier: verifier,
    });
  const introspect = (t: { url: string }, token: string) =>
    request(t.url)
      .post('/oauth/introspect')
      .set('Authorization', basicAuth(rs.clientId, rs.clientSecret!))
      .type('form')
      .send({ token });
  // the browser side always runs against `a` (its factories need its services); codes and tokens cross over
  const authorizeOn = async (t: TestApp) => {
    const { verifier, challenge } = pkcePair();
    const { code } = await loginAndConsent(t, {
      clientId: app.clientId,
      redirectUri: app.redirectUri,
      challenge,
      scope: 'api:read',
    });
    return { code, verifier };
  };

  it('exchanges on one instance a code issued by the other', async () => {
    const { code, verifier } = await authorizeOn(a);
    const res = await exchange(b, code, verifier);
    expect(res.status).toBe(200);
    expect((await introspect(a, res.body.access_token)).body.active).toBe(true);
  });

  it('lets exactly one of 20 concurrent exchanges split across both instances win', async () => {
    const { code, verifier } = await authorizeOn(a);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => exchange(i % 2 ? a : b, code, verifier)),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400 && r.body.error === 'invalid_grant')).toHaveLength(19);
  });

  it('sees a revocation made on the other instance immediately', async () => {
    const { code, verifier } = await authorizeOn(a);
    const tokens = (await exchange(b, code, verifier)).body;
    expect((await introspect(a, tokens.access_token)).body.active).toBe(true);
    const revoked = await request(a.url)
      .post('/oauth/revoke')
      .type('form')
      .send({ token: tokens.refresh_token, client_id: app.clientId });
    expect(revoked.status).toBe(200);
    expect((await introspect(b, tokens.access_token)).body.active).toBe(false);
    expect((await introspect(b, tokens.refresh_token)).body.active).toBe(false);
  });

  it('honours a client disabled on the other instance: introspection at once, the token endpoint within CLIENT_CACHE_TTL_MS', async () => {
    const other = await createClient(a, { grantTypes: ['client_credentials'], scope: 'api:read' });
    const issue = (t: { url: string }) =>
      request(t.url)
        .post('/oauth/token')
        .set('Authorization', basicAuth(other.clientId, other.clientSecret!))
        .type('form')
        .send({ grant_type: 'client_credentials' });
    const token = (await issue(b)).body.access_token;
    expect((await introspect(b, token)).body.active).toBe(true);
    await a.dataSource.query(`UPDATE clients SET enabled = false WHERE client_id = $1`, [other.clientId]);
    const disabledAt = Date.now();
    expect((await introspect(b, token)).body.active).toBe(false);
    // b may still hold the client's row for up to CLIENT_CACHE_TTL_MS (default 1000 ms)
    let status = (await issue(b)).status;
    while (status !== 401 && Date.now() - disabledAt < 1200) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await issue(b)).status;
    }
    expect(status).toBe(401);
    expect(Date.now() - disabledAt).toBeLessThan(1500);
  });

  it('verifies at once, and signs within the key refresh interval, with a key rotated on the other', async () => {
    const { kid } = await a.get(KeyStore).rotate();
    const issue = (t: { url: string }) =>
      request(t.url)
        .post('/oauth/token')
        .set('Authorization', basicAuth(rs.clientId, rs.clientSecret!))
        .type('form')
        .send({ grant_type: 'client_credentials' });
    const fromA = (await issue(a)).body.access_token;
    expect(decodeProtectedHeader(fromA).kid).toBe(kid);
    expect((await introspect(b, fromA)).body.active).toBe(true); // b learns the new kid on first sight
    expect((await request(b.url).get('/oauth/jwks')).body.keys.map((k: { kid: string }) => k.kid)).toContain(
      kid,
    );
    let kidFromB = '';
    for (let i = 0; i < 60 && kidFromB !== kid; i++) {
      kidFromB = decodeProtectedHeader((await issue(b)).body.access_token).kid!;
      if (kidFromB !== kid) await new Promise((r) => setTimeout(r, 250));
    }
    expect(kidFromB).toBe(kid); // documented bound: KEY_REFRESH_INTERVAL_MS (10 s)
    expect(process.pid).not.toBe(b.pid);
  });

  it('refuses on one instance a DPoP proof already accepted by the other (jti stored in the database)', async () => {
    const key = await dpopKey();
    const proof = await dpopProof(key, `${ISSUER}/oauth/token`);
    const tokenRequest = (t: { url: string }) =>
      request(t.url)
        .post('/oauth/token')
        .set('Authorization', basicAuth(rs.clientId, rs.clientSecret!))
        .set('DPoP', proof)
        .type('form')
        .send({ grant_type: 'client_credentials' });
    const first = await tokenRequest(a);
    expect(first.status).toBe(200);
    expect(first.body.token_type).toBe('DPoP');
    const replay = await tokenRequest(b);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_dpop_proof');
    // and the other way round, with a fresh proof
    const second = await dpopProof(key, `${ISSUER}/oauth/token`);
    const onB = await tokenRequest(b).set('DPoP', second);
    expect(onB.status).toBe(200);
    const back = await tokenRequest(a).set('DPoP', second);
    expect(back.status).toBe(400);
  });
});
