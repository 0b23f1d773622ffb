import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, exportJWK } from 'jose';
import { AccessTokenVerifier, IntrospectionCache, InMemoryReplayStore } from '@latchkey/resource-server';
import { FakeIssuer } from './fake-issuer';
import { AUD, bearer, encode, refused } from './verifier-test-helpers';

describe('AccessTokenVerifier (resource-server guard rules)', () => {
  let issuer: FakeIssuer;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    issuer = await FakeIssuer.start();
  });
  afterAll(() => issuer.close());
  beforeEach(() => {
    verifier = new AccessTokenVerifier({ issuer: issuer.url, audience: AUD, jwksCooldownMs: 0 });
  });

  it('accepts a valid token and exposes subject, client and scopes', async () => {
    const token = await issuer.token({ scope: 'api:read api:write' });
    const result = await verifier.verify(bearer(token));
    expect(result).toMatchObject({
      subject: '3f1e2a4c-9b7d-4e21-8c55-0a1b2c3d4e5f',
      clientId: 'web-app',
      scopes: ['api:read', 'api:write'],
      jkt: undefined,
    });
  });

  it('answers 401 without an error code when no token is sent (RFC 6750 §3.1)', async () => {
    const e = await refused(verifier.verify(bearer('', { authorization: undefined })));
    expect([e.status, e.error]).toEqual([401, undefined]);
    const basic = await refused(verifier.verify(bearer('', { authorization: 'Basic dXNlcjpwYXNz' })));
    expect([basic.status, basic.error]).toEqual([401, undefined]);
  });

  it('refuses two Authorization headers and a malformed token with 400 invalid_request', async () => {
    const token = await issuer.token();
    const two = await refused(
      verifier.verify(bearer(token, { authorization: [`Bearer ${token}`, 'Bearer x'] })),
    );
    expect([two.status, two.error]).toEqual([400, 'invalid_request']);
    const bad = await refused(verifier.verify(bearer('a"b')));
    expect([bad.status, bad.error]).toEqual([400, 'invalid_request']);
  });

  it('refuses an expired token, but accepts one within the small clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await refused(
      verifier.verify(bearer(await issuer.token({ iat: now - 1000, exp: now - 30 }))),
    );
    expect([expired.status, expired.error, expired.description]).toEqual([
      401,
      'invalid_token',
      'access token expired',
    ]);
    await expect(
      verifier.verify(bearer(await issuer.token({ iat: now - 900, exp: now - 2 }))),
    ).resolves.toBeTruthy();
  });

  it('refuses a token of another issuer', async () => {
    const e = await refused(verifier.verify(bearer(await issuer.token({ iss: 'https://evil.example' }))));
    expect([e.status, e.error]).toEqual([401, 'invalid_token']);
    expect(e.description).toContain('iss');
  });

  it('refuses a token for another audience, and accepts one of several configured audiences', async () => {
    const e = await refused(
      verifier.verify(bearer(await issuer.token({ aud: 'https://other-api.example' }))),
    );
    expect([e.status, e.error]).toEqual([401, 'invalid_token']);
    expect(e.description).toContain('aud');
    const two = new AccessTokenVerifier({ issuer: issuer.url, audience: ['https://x.example', AUD] });
    await expect(two.verify(bearer(await issuer.token()))).resolves.toBeTruthy();
  });

  it('refuses a token whose typ is not at+jwt (an ID token or a plain JWT)', async () => {
    for (const typ of ['JWT', 'dpop+jwt', undefined]) {
      const e = await refused(verifier.verify(bearer(await issuer.token({}, { typ }))));
      expect([e.status, e.error]).toEqual([401, 'invalid_token']);
      expect(e.description).toContain('typ');
    }
    // the media type form is the same type (RFC 9068 §2.1)
    await expect(
      verifier.verify(bearer(await issuer.token({}, { typ: 'application/at+jwt' }))),
    ).resolves.toBeTruthy();
  });

  it('refuses alg none (an unsigned token) and HS256 (a key confusion attempt)', async () => {
    const valid = await issuer.token();
    const [header, payload] = valid.split('.');
    const kid = JSON.parse(Buffer.from(header, 'base64url').toString()).kid;
    const unsigned = `${encode({ alg: 'none', typ: 'at+jwt', kid })}.${payload}.`;
    const none = await refused(verifier.verify(bearer(unsigned)));
    expect([none.status, none.error]).toEqual([401, 'invalid_token']);

    // HMAC with the public key's bytes as the secret: the classic confusion; alg is never taken from the token
    const jwks = (await fetch(`${issuer.url}/oauth/jwks`).then((r) => r.json())) as { keys: object[] };
    const hs = await new SignJWT(JSON.parse(Buffer.from(payload, 'base64url').toString()))
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid })
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    const e = await refused(verifier.verify(bearer(hs)));
    expect([e.status, e.error, e.description]).toEqual([
      401,
      'invalid_token',
      'access token: signature algorithm not allowed',
    ]);
  });

  it('refuses a token with a forged signature and one signed with another ES256 key under a known kid', async () => {
    const token = await issuer.token();
    const [h, p, s] = token.split('.');
    const forged = `${h}.${encode({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'admin' })}.${s}`;
    expect((await refused(verifier.verify(bearer(forged)))).description).toContain('signature');
    const { privateKey } = await generateKeyPair('ES256');
    const kid = JSON.parse(Buffer.from(h, 'base64url').toString()).kid;
    const other = await new SignJWT(JSON.parse(Buffer.from(p, 'base64url').toString()))
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .sign(privateKey);
    expect((await refused(verifier.verify(bearer(other)))).error).toBe('invalid_token');
  });

  it('refuses a token missing a required RFC 9068 claim', async () => {
    for (const claim of ['client_id', 'jti', 'sub', 'exp']) {
      const e = await refused(verifier.verify(bearer(await issuer.token({ [claim]: undefined }))));
      expect([e.status, e.error]).toEqual([401, 'invalid_token']);
    }
  });

  it('fetches the JWKS again for an unknown kid (key rotation), and caches it otherwise', async () => {
    await verifier.verify(bearer(await issuer.token()));
    const before = issuer.jwksFetches;
    await verifier.verify(bearer(await issuer.token()));
    expect(issuer.jwksFetches).toBe(before); // cached
    await issuer.rotate();
    await expect(verifier.verify(bearer(await issuer.token()))).resolves.toBeTruthy();
    expect(issuer.jwksFetches).toBe(before + 1);
  });

  it('refuses a kid that is not in the JWKS, even after fetching it again', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const stranger = { kid: 'never-published', privateKey, publicJwk: await exportJWK(publicKey) };
    const e = await refused(verifier.verify(bearer(await issuer.token({}, {}, stranger))));
    expect([e.status, e.error, e.description]).toEqual([
      401,
      'invalid_token',
      'access token: unknown signing key (kid)',
    ]);
  });

  it('does not refetch the JWKS on every unknown kid within the cooldown', async () => {
    const slow = new AccessTokenVerifier({ issuer: issuer.url, audience: AUD, jwksCooldownMs: 60_000 });
    await slow.verify(bearer(await issuer.token()));
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const stranger = { kid: 'flood', privateKey, publicJwk: await exportJWK(publicKey) };
    const before = issuer.jwksFetches;
    for (let i = 0; i < 5; i++) await refused(slow.verify(bearer(await issuer.token({}, {}, stranger))));
    expect(issuer.jwksFetches).toBe(before);
  });

  it('answers 503 (not 401) when the issuer cannot be reached', async () => {
    const down = new AccessTokenVerifier({ issuer: 'http://127.0.0.1:9', audience: AUD });
    const e = await refused(down.verify(bearer(await issuer.token())));
    expect(e.status).toBe(503);
  });

  describe('introspection mode', () => {
    it('sees a revoked token at once (after the short cache), and reuses answers within it', async () => {
      let now = Date.now();
      const introspecting = new AccessTokenVerifier(
        {
          issuer: issuer.url,
          audience: AUD,
          introspection: { clientId: 'rs', clientSecret: 'rs-secret', cacheTtlSeconds: 5 },
        },
        () => now,
      );
      const jti = randomUUID();
      const token = await issuer.token({ jti });
      const calls = issuer.introspections;
      await introspecting.verify(bearer(token), { introspect: true });
      await introspecting.verify(bearer(token), { introspect: true });
      expect(issuer.introspections).toBe(calls + 1);
      // a route without @Introspect() never asks
      await introspecting.verify(bearer(token));
      expect(issuer.introspections).toBe(calls + 1);

      issuer.revoked.add(jti);
      await introspecting.verify(bearer(token), { introspect: true }); // still cached
      now += 5_001;
      const e = await refused(introspecting.verify(bearer(token), { introspect: true }));
      expect([e.status, e.error]).toEqual([401, 'invalid_token']);
      expect(e.description).toContain('no longer active');
    });

    it('answers 503 when introspection fails (wrong credentials at the issuer)', async () => {
      const wrong = new AccessTokenVerifier({
        issuer: issuer.url,
        audience: AUD,
        introspection: { clientId: 'rs', clientSecret: 'nope' },
      });
      const e = await refused(wrong.verify(bearer(await issuer.token()), { introspect: true }));
      expect(e.status).toBe(503);
    });

    it('the cache is bounded and never outlives the token', () => {
      let now = 1_000_000;
      const cache = new IntrospectionCache(5_000, 3, () => now);
      for (const k of ['a', 'b', 'c', 'd']) cache.set(k, true);
      expect(cache.size).toBe(3);
      expect(cache.get('a')).toBeUndefined();
      cache.set('short', true, now + 1_000);
      now += 1_001;
      expect(cache.get('short')).toBeUndefined();
      expect(cache.get('d')).toBe(true);
    });
  });

  it('the replay store refuses a seen key until it expires and stays bounded', async () => {
    let now = 0;
    const store = new InMemoryReplayStore(2, () => now);
    expect(await store.seen('a', 100)).toBe(false);
    expect(await store.seen('a', 100)).toBe(true);
    now = 101;
    expect(await store.seen('a', 200)).toBe(false);
    await store.seen('b', 300);
    await store.seen('c', 300);
    expect(await store.seen('c', 300)).toBe(true);
  });
});
