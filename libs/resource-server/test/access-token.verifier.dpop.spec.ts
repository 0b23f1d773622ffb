import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AccessTokenVerifier } from '@latchkey/resource-server';
import { DpopKey, FakeIssuer } from './fake-issuer';
import { API, AUD, bearer, refused } from './verifier-test-helpers';

describe('AccessTokenVerifier (resource-server guard rules): DPoP', () => {
  let issuer: FakeIssuer;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    issuer = await FakeIssuer.start();
  });
  afterAll(() => issuer.close());
  beforeEach(() => {
    verifier = new AccessTokenVerifier({ issuer: issuer.url, audience: AUD, jwksCooldownMs: 0 });
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
});
