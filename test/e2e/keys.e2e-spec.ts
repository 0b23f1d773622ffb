import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { AuditEmitter } from '../../src/events/events';
import {
  keysConfig,
  oauthConfig,
  type KeysConfig,
  type OAuthConfig,
} from '../../src/config/config.namespaces';
import { sql } from '../../src/database/sql';
import { AccessTokenVerifier } from '../../src/keys/access-token.verifier';
import { GrantsService } from '../../src/grants/grants.service';
import { KeyStore } from '../../src/keys/key-store.service';
import { SigningKeysRepository } from '../../src/keys/signing-keys.repository';
import { adminCaller, insertGrant, mintAccessToken } from '../factories/clients';
import { createTestApp, TestApp } from '../helpers/test-app';

const ACCESS_TOKEN_TTL_SECONDS = 900;

describe('signing keys: rotation, JWKS and verification', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof adminCaller>>;
  const extraStores: KeyStore[] = [];

  beforeAll(async () => {
    t = await createTestApp({ ACCESS_TOKEN_TTL: '15m', KEY_PUBLISH_DELAY: '0s' }); // rotated keys sign at once
    admin = await adminCaller(t);
  });
  afterAll(async () => {
    for (const store of extraStores) store.onApplicationShutdown();
    await t.close();
  });

  const jwks = async () =>
    (await request(t.url).get('/oauth/jwks').expect(200)).body.keys as Array<{ kid: string }>;
  const kidOf = (token: string) => decodeProtectedHeader(token).kid;
  const mint = (overrides: Record<string, unknown> = {}) =>
    mintAccessToken(
      t,
      { clientId: admin.clientId, scope: 'clients:read clients:write', grantId: admin.grantId },
      overrides,
    );
  /** jose against the published JWK Set, as a resource server would verify (RFC 9068 §4). */
  const verifyWithJose = (token: string) =>
    jwtVerify(token, createRemoteJWKSet(new URL(`${t.url}/oauth/jwks`)), {
      issuer: t.url,
      audience: t.url,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
  /** Another instance's key store on the same database (a restart, possibly with another configuration). */
  const otherInstance = async (config: Partial<KeysConfig>) => {
    const store = new KeyStore(t.get(SigningKeysRepository), t.get(AuditEmitter), {
      ...t.get<KeysConfig>(keysConfig.KEY),
      ...config,
    });
    extraStores.push(store);
    await store.onModuleInit();
    return store;
  };

  let oldKid: string;
  let tokenByOldKey: string;
  let shortLivedByOldKey: string;

  it('publishes one key at first start and signs RFC 9068 tokens that jose verifies against the JWKS', async () => {
    const keys = await jwks();
    expect(keys).toHaveLength(1);
    oldKid = keys[0].kid;
    tokenByOldKey = mint();
    shortLivedByOldKey = mint({ exp: Math.floor(Date.now() / 1000) + 2 });
    expect(kidOf(tokenByOldKey)).toBe(oldKid);
    const { payload, protectedHeader } = await verifyWithJose(tokenByOldKey);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: oldKid });
    expect(payload).toMatchObject({
      iss: t.url,
      sub: admin.clientId,
      aud: t.url,
      client_id: admin.clientId,
      scope: 'clients:read clients:write',
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(typeof payload.iat).toBe('number');
    expect(typeof payload.exp).toBe('number');
  });

  it('keys:rotate adds a key: the JWKS then has two, and new tokens carry the new kid', async () => {
    const result = await t.get(CliOperations).execute('keys:rotate', {});
    expect(result).toEqual({ kid: expect.any(String), activates_at: expect.any(String) });
    const keys = await jwks();
    expect(keys.map((k) => k.kid).sort()).toEqual([oldKid, result.kid].sort());
    for (const key of keys) expect(key).not.toHaveProperty('d');
    const fresh = mint();
    expect(kidOf(fresh)).toBe(result.kid);
    expect(await t.get(AccessTokenVerifier).verify(fresh)).not.toBeNull();
    await verifyWithJose(fresh);
    await request(t.url).get('/admin/clients').set('Authorization', `Bearer ${fresh}`).expect(200);
  });

  it('still accepts a token signed by the old key until it expires', async () => {
    expect(await t.get(AccessTokenVerifier).verify(tokenByOldKey)).not.toBeNull();
    await verifyWithJose(tokenByOldKey);
    await request(t.url).get('/admin/clients').set('Authorization', `Bearer ${tokenByOldKey}`).expect(200);
    expect(await t.get(AccessTokenVerifier).verify(shortLivedByOldKey)).not.toBeNull();

    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await t.get(AccessTokenVerifier).verify(shortLivedByOldKey)).toBeNull();
    await expect(verifyWithJose(shortLivedByOldKey)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    await request(t.url)
      .get('/admin/clients')
      .set('Authorization', `Bearer ${shortLivedByOldKey}`)
      .expect(401);
  });

  it('keeps the retired key in the JWKS exactly as long as its tokens can live, then drops it', async () => {
    const [row] = await sql<{ lifetime: number }>(
      t.dataSource,
      `SELECT extract(epoch FROM expires_at - retired_at)::int AS lifetime FROM signing_keys WHERE kid = $1`,
      [oldKid],
    );
    expect(row.lifetime).toBeGreaterThanOrEqual(ACCESS_TOKEN_TTL_SECONDS);
    // time passes: every token of the old key has expired
    await sql(
      t.dataSource,
      `UPDATE signing_keys SET expires_at = now() - interval '1 second' WHERE kid = $1`,
      [oldKid],
    );
    const restarted = await otherInstance({});
    expect(restarted.jwks().keys.map((k) => k.kid)).not.toContain(oldKid);
    const verifier = new AccessTokenVerifier(
      restarted,
      t.get(GrantsService),
      t.get<OAuthConfig>(oauthConfig.KEY),
    );
    expect(await verifier.verify(tokenByOldKey)).toBeNull();
    // the running instance verified this token before (its verdict is cached): once its key store has
    // reloaded without the key, the remembered signature counts for nothing
    await t.get(KeyStore)['reload']();
    expect(await t.get(AccessTokenVerifier).verify(tokenByOldKey)).toBeNull();
  });

  it('keeps a key stored under another KEY_ENCRYPTION_KEY for verification only and generates a new current key', async () => {
    const before = mint();
    const beforeKid = kidOf(before);
    const otherKek = randomBytes(32);
    const instance = await otherInstance({ keyEncryptionKey: otherKek });

    expect(instance.isReady()).toBe(true);
    const kids = instance.jwks().keys.map((k) => k.kid);
    expect(kids).toContain(beforeKid);
    expect(kids).toHaveLength(2);
    // it signs with its own new key, never with the one it cannot decrypt
    const grantId = await insertGrant(t, admin.clientId, 'clients:read');
    const signed = instance.signJwt({
      iss: t.url,
      sub: admin.clientId,
      aud: t.url,
      client_id: admin.clientId,
      scope: 'clients:read',
      iat: Math.floor(Date.now() / 1000),
      exp: Math.floor(Date.now() / 1000) + 60,
      jti: '4b0f9c1e-7f3a-4c55-8d0e-2a9b6f1c3d11',
      gid: grantId,
    });
    expect(kidOf(signed)).not.toBe(beforeKid);
    expect(kids).toContain(kidOf(signed));
    // the token signed by the key it cannot decrypt still verifies there
    const verifier = new AccessTokenVerifier(
      instance,
      t.get(GrantsService),
      t.get<OAuthConfig>(oauthConfig.KEY),
    );
    expect(await verifier.verify(before)).not.toBeNull();
    expect(await verifier.verify(signed)).not.toBeNull();
    const [stored] = await sql<{ count: number }>(
      t.dataSource,
      `SELECT count(*)::int AS count FROM signing_keys`,
    );
    expect(stored.count).toBe(3);

    // the first instance learns the new key on first sight of its kid (reloads are throttled to 1/s)
    let seen = null;
    for (let i = 0; i < 30 && !seen; i++) {
      seen = await t.get(AccessTokenVerifier).verify(signed);
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(seen).not.toBeNull();
    expect((await jwks()).map((k) => k.kid)).toContain(kidOf(signed));
  });

  it('publishes a rotated key before it signs anything when KEY_PUBLISH_DELAY is set', async () => {
    const instance = await otherInstance({ publishDelay: 3600 });
    const currentKid = kidOf(instance.signJwt({ probe: true }));
    const { kid } = await instance.rotate();
    expect(instance.jwks().keys.map((k) => k.kid)).toContain(kid);
    expect(kidOf(instance.signJwt({ probe: true }))).toBe(currentKid);
  });
});
