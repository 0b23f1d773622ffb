import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT, exportJWK } from 'jose';
import {
  AccessTokenVerifier,
  IntrospectionCache,
  InMemoryReplayStore,
  TokenError,
} from '@latchkey/resource-server';
import { DpopKey, FakeIssuer } from './fake-issuer';

const AUD = 'https://api.example';
const API = 'https://api.example/invoices';

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

  const bearer = (token: string, extra: Partial<Parameters<AccessTokenVerifier['verify']>[0]> = {}) => ({
    method: 'GET',
    url: API,
    authorization: `Bearer ${token}`,
    dpop: undefined,
    ...extra,
  });

  async function refused(promise: Promise<unknown>): Promise<TokenError> {
    const e = await promise.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!(e instanceof TokenError)) throw new Error(`expected a TokenError, got ${String(e)}`);
    return e;
  }

  function encode(part: object): string {
    return Buffer.from(JSON.stringify(part)).toString('base64url');
  }

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

  describe('DPoP-bound tokens (RFC 9449)', () => {
    let key: DpopKey;
    beforeAll(async () => {
      key = await DpopKey.generate();
    });
    const bound = () => issuer.token({ cnf: { jkt: key.jkt } });
    const dpop = (token: string, proof: string | string[] | undefined, extra = {}) => ({
      method: 'POST',
      url: API,
      authorization: `DPoP ${token}`,
      dpop: proof,
      ...extra,
    });

    it('accepts a bound token with a valid proof (query string ignored in htu)', async () => {
      const token = await bound();
      const proof = await key.proof('POST', API, token);
      const result = await verifier.verify(dpop(token, proof, { url: `${API}?page=2` }));
      expect(result.jkt).toBe(key.jkt);
    });

    it('refuses a bound token sent as Bearer, and an unbound token sent as DPoP', async () => {
      const token = await bound();
      const asBearer = await refused(verifier.verify(bearer(token)));
      expect([asBearer.status, asBearer.error, asBearer.scheme]).toEqual([401, 'invalid_token', 'DPoP']);
      const unbound = await issuer.token();
      const e = await refused(verifier.verify(dpop(unbound, await key.proof('POST', API, unbound))));
      expect([e.status, e.error]).toEqual([401, 'invalid_token']);
    });

    it('refuses a missing proof and two proofs', async () => {
      const token = await bound();
      expect((await refused(verifier.verify(dpop(token, undefined)))).error).toBe('invalid_dpop_proof');
      const proof = await key.proof('POST', API, token);
      expect((await refused(verifier.verify(dpop(token, [proof, proof])))).error).toBe('invalid_dpop_proof');
    });

    it('refuses a proof for another method (htm) or another URL (htu)', async () => {
      const token = await bound();
      const htm = await refused(verifier.verify(dpop(token, await key.proof('GET', API, token))));
      expect([htm.error, htm.description]).toEqual([
        'invalid_dpop_proof',
        'htm does not match the request method',
      ]);
      const other = await key.proof('POST', 'https://api.example/payments', token);
      const htu = await refused(verifier.verify(dpop(token, other)));
      expect([htu.error, htu.description]).toEqual([
        'invalid_dpop_proof',
        'htu does not match the request URL',
      ]);
      const otherHost = await key.proof('POST', 'https://evil.example/invoices', token);
      expect((await refused(verifier.verify(dpop(token, otherHost)))).error).toBe('invalid_dpop_proof');
    });

    it('uses the configured public origin for htu (behind a proxy)', async () => {
      const behindProxy = new AccessTokenVerifier({
        issuer: issuer.url,
        audience: AUD,
        dpop: { origin: 'https://api.example' },
      });
      const token = await bound();
      const proof = await key.proof('POST', API, token);
      await expect(
        behindProxy.verify(dpop(token, proof, { url: 'http://10.0.0.7:8080/invoices' })),
      ).resolves.toBeTruthy();
    });

    it('refuses a proof for another access token (ath) and one without ath', async () => {
      const token = await bound();
      const otherToken = await bound();
      const e = await refused(verifier.verify(dpop(token, await key.proof('POST', API, otherToken))));
      expect([e.error, e.description]).toEqual(['invalid_dpop_proof', 'ath does not match the access token']);
      const noAth = await key.proof('POST', API, token, { ath: undefined });
      expect((await refused(verifier.verify(dpop(token, noAth)))).error).toBe('invalid_dpop_proof');
    });

    it('refuses a proof that is too old or from the future (iat), and accepts a small skew', async () => {
      const token = await bound();
      const now = Math.floor(Date.now() / 1000);
      const old = await key.proof('POST', API, token, { iat: now - 120 });
      expect((await refused(verifier.verify(dpop(token, old)))).error).toBe('invalid_dpop_proof');
      const future = await key.proof('POST', API, token, { iat: now + 60 });
      expect((await refused(verifier.verify(dpop(token, future)))).error).toBe('invalid_dpop_proof');
      const skewed = await key.proof('POST', API, token, { iat: now + 3 });
      await expect(verifier.verify(dpop(token, skewed))).resolves.toBeTruthy();
    });

    it('refuses a replayed proof (same jti)', async () => {
      const token = await bound();
      const proof = await key.proof('POST', API, token);
      await verifier.verify(dpop(token, proof));
      const e = await refused(verifier.verify(dpop(token, proof)));
      expect([e.status, e.error, e.description]).toEqual([
        401,
        'invalid_dpop_proof',
        'DPoP proof replayed (jti already seen)',
      ]);
    });

    it('refuses a proof signed by another key than the token is bound to (cnf.jkt)', async () => {
      const token = await bound();
      const thief = await DpopKey.generate();
      const e = await refused(verifier.verify(dpop(token, await thief.proof('POST', API, token))));
      expect([e.status, e.error]).toEqual([401, 'invalid_token']);
      expect(e.description).toContain('another key');
    });

    it('refuses a proof with a wrong typ, a symmetric alg or a private key in its jwk', async () => {
      const token = await bound();
      const typ = await key.proof('POST', API, token, {}, { typ: 'JWT' });
      expect((await refused(verifier.verify(dpop(token, typ)))).error).toBe('invalid_dpop_proof');
      const hs = await new SignJWT({
        htm: 'POST',
        htu: API,
        iat: Math.floor(Date.now() / 1000),
        jti: randomUUID(),
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } } as never)
        .sign(new TextEncoder().encode('secret'));
      expect((await refused(verifier.verify(dpop(token, hs)))).error).toBe('invalid_dpop_proof');
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const withPrivate = await key.proof('POST', API, token, {}, { jwk: await exportJWK(privateKey) });
      expect((await refused(verifier.verify(dpop(token, withPrivate)))).error).toBe('invalid_dpop_proof');
    });
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
