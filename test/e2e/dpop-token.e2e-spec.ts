import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { athOf, dpopKey, dpopProof, forgedProof, type DpopKey } from '../factories/dpop';
import {
  exchangeCode,
  insertUserRow,
  introspect,
  introspectionClient,
  issueCode,
  jwtClaims,
  postForm,
  refresh,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/**
 * RFC 9449 at the token endpoint and at the admin API, with proofs built by hand (jose): every rule of a valid
 * proof (docs/sender-constrained-tokens.md), each refusal with its audit reason.
 */
describe('DPoP (RFC 9449): token endpoint and protected APIs', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let service: TestClient; // confidential, client_credentials, clients:read
  let resourceServer: TestClient;
  let key: DpopKey;
  let tokenUrl: string;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    service = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'clients:read',
      redirectUris: [],
    });
    resourceServer = await introspectionClient(t);
    key = await dpopKey();
    tokenUrl = `${t.url}/oauth/token`;
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const clientCredentials = (headers: Record<string, string> = {}) =>
    postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, service, { headers });

  /** The reason of the one token.request_failed event of the last request. */
  const failureReason = () => audit.ofType('token.request_failed').map((e) => e.reason);

  async function refused(proof: string, reason: string) {
    audit.clear();
    const res = await clientCredentials({ DPoP: proof });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(failureReason()).toEqual([reason]);
    expect(audit.ofType('token.issued')).toEqual([]);
  }

  it('binds the access token to the key of a valid proof: token_type DPoP, cnf.jkt, introspection', async () => {
    const res = await clientCredentials({ DPoP: await dpopProof(key, tokenUrl) }).expect(200);
    expect(res.body.token_type).toBe('DPoP');
    expect(jwtClaims(res.body.access_token).cnf).toEqual({ jkt: key.jkt });
    const info = await introspect(t, resourceServer, res.body.access_token).expect(200);
    expect(info.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } });
    expect(audit.ofType('token.issued')[0].details).toMatchObject({ token_type: 'DPoP' });
  });

  it('issues plain Bearer tokens without a proof', async () => {
    const res = await clientCredentials().expect(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(jwtClaims(res.body.access_token).cnf).toBeUndefined();
    const info = await introspect(t, resourceServer, res.body.access_token).expect(200);
    expect(info.body.token_type).toBe('Bearer');
    expect(info.body.cnf).toBeUndefined();
  });

  it('accepts the other listed algorithms (EdDSA, RS256, PS256)', async () => {
    for (const alg of ['EdDSA', 'RS256', 'PS256']) {
      const other = await dpopKey(alg);
      const res = await clientCredentials({ DPoP: await dpopProof(other, tokenUrl) }).expect(200);
      expect(jwtClaims(res.body.access_token).cnf).toEqual({ jkt: other.jkt });
    }
  });

  it('refuses a proof for another URL (htu)', async () => {
    await refused(await dpopProof(key, `${t.url}/oauth/par`), 'dpop_proof_htu_mismatch');
    await refused(await dpopProof(key, 'https://evil.example/oauth/token'), 'dpop_proof_htu_mismatch');
  });

  it('accepts htu with a query or fragment (compared without them)', async () => {
    await clientCredentials({ DPoP: await dpopProof(key, `${tokenUrl}?x=1#f`) }).expect(200);
  });

  it('refuses a proof for another method (htm)', async () => {
    await refused(await dpopProof(key, tokenUrl, { htm: 'GET' }), 'dpop_proof_htm_mismatch');
  });

  it('refuses a stale, a future and a missing iat', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await dpopProof(key, tokenUrl, { iat: now - 120 }), 'dpop_proof_iat');
    await refused(await dpopProof(key, tokenUrl, { iat: now + 60 }), 'dpop_proof_iat');
    await refused(await dpopProof(key, tokenUrl, { without: ['iat'] }), 'dpop_proof_iat');
  });

  it('refuses a replayed jti, and audits it for the dpop_proof_replay rule', async () => {
    const proof = await dpopProof(key, tokenUrl);
    await clientCredentials({ DPoP: proof }).expect(200);
    audit.clear();
    await refused(proof, 'dpop_proof_replayed');
    // the same jti with another key is another proof
    const other = await dpopKey();
    const jti = jwtClaims(proof).jti as string;
    await clientCredentials({ DPoP: await dpopProof(other, tokenUrl, { jti }) }).expect(200);
  });

  it('refuses a private key in the jwk', async () => {
    const { exportJWK } = await import('jose');
    const privateJwk = await exportJWK(key.privateKey);
    await refused(await dpopProof(key, tokenUrl, { jwk: privateJwk }), 'dpop_proof_jwk');
  });

  it('refuses alg none and HS256 (symmetric)', async () => {
    const claims = { htm: 'POST', htu: tokenUrl, iat: Math.floor(Date.now() / 1000), jti: 'x1' };
    await refused(forgedProof({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk }, claims), 'dpop_proof_alg');
    const { SignJWT } = await import('jose');
    const secret = new Uint8Array(32).fill(7);
    const hs = await new SignJWT(claims)
      .setProtectedHeader({
        typ: 'dpop+jwt',
        alg: 'HS256',
        jwk: { kty: 'oct', k: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc' } as never,
      })
      .sign(secret);
    await refused(hs, 'dpop_proof_alg');
  });

  it('refuses a wrong typ, a missing jwk, a bad signature and garbage', async () => {
    await refused(await dpopProof(key, tokenUrl, { typ: 'JWT' }), 'dpop_proof_typ');
    const other = await dpopKey();
    await refused(await dpopProof(key, tokenUrl, { jwk: other.jwk }), 'dpop_proof_bad_signature');
    await refused(forgedProof({ typ: 'dpop+jwt', alg: 'ES256' }, { htm: 'POST' }), 'dpop_proof_jwk');
    await refused('not a jwt', 'dpop_proof_malformed');
    await refused(await dpopProof(key, tokenUrl, { without: ['jti'] }), 'dpop_proof_malformed');
  });

  it('refuses two DPoP headers', async () => {
    const res = await request(t.url)
      .post('/oauth/token')
      .type('form')
      .set(
        'Authorization',
        `Basic ${Buffer.from(`${service.clientId}:${service.clientSecret}`).toString('base64')}`,
      )
      .set('DPoP', [await dpopProof(key, tokenUrl), await dpopProof(key, tokenUrl)] as unknown as string)
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_dpop_proof');
    expect(failureReason()).toEqual(['dpop_proof_multiple']);
  });

  it('requires a proof from a client registered with dpop_bound_access_tokens', async () => {
    const bound = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'api:read',
      redirectUris: [],
    });
    await sql(t.dataSource, `UPDATE clients SET dpop_bound_access_tokens = true WHERE client_id = $1`, [
      bound.clientId,
    ]);
    const res = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, bound).expect(400);
    expect(res.body.error).toBe('invalid_request');
    expect(failureReason()).toEqual(['dpop_proof_missing']);
    const ok = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, bound, {
      headers: { DPoP: await dpopProof(key, tokenUrl) },
    }).expect(200);
    expect(ok.body.token_type).toBe('DPoP');
  });

  describe('refresh tokens', () => {
    let spa: TestClient;
    let web: TestClient;
    beforeAll(async () => {
      spa = await createClient(t, { authMethod: 'none' });
      web = await createClient(t);
    });

    async function codeTokens(client: TestClient, proofKey?: DpopKey) {
      const code = await issueCode(t, { client, userId: await insertUserRow(t) });
      const headers: Record<string, string> = proofKey ? { DPoP: await dpopProof(proofKey, tokenUrl) } : {};
      const res = await postForm(
        t,
        '/oauth/token',
        {
          grant_type: 'authorization_code',
          code: code.code,
          redirect_uri: client.redirectUri,
          code_verifier: code.verifier,
        },
        client,
        { headers },
      ).expect(200);
      return res.body;
    }

    it("binds a public client's refresh token to its key: another key or no proof → invalid_grant", async () => {
      const tokens = await codeTokens(spa, key);
      expect(tokens.token_type).toBe('DPoP');
      const stolen = await dpopKey();
      audit.clear();
      let res = await refresh(t, spa, tokens.refresh_token).set('DPoP', await dpopProof(stolen, tokenUrl));
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(failureReason()).toEqual(['dpop_key_mismatch']);
      audit.clear();
      res = await refresh(t, spa, tokens.refresh_token);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(failureReason()).toEqual(['dpop_key_mismatch']);
      // the thief could not revoke the grant: the holder of the key still refreshes, and the successor stays bound
      res = await refresh(t, spa, tokens.refresh_token)
        .set('DPoP', await dpopProof(key, tokenUrl))
        .expect(200);
      expect(res.body.token_type).toBe('DPoP');
      expect(jwtClaims(res.body.access_token).cnf).toEqual({ jkt: key.jkt });
      const next = await refresh(t, spa, res.body.refresh_token);
      expect(next.status).toBe(400);
      expect(next.body.error).toBe('invalid_grant');
    });

    it("does not bind a confidential client's refresh token", async () => {
      const tokens = await codeTokens(web, key);
      expect(jwtClaims(tokens.access_token).cnf).toEqual({ jkt: key.jkt });
      const res = await refresh(t, web, tokens.refresh_token).expect(200);
      expect(res.body.token_type).toBe('Bearer');
    });

    it('refuses an invalid proof before the code is touched', async () => {
      const code = await issueCode(t, { client: spa, userId: await insertUserRow(t) });
      const bad = await exchangeCode(t, spa, code).set('DPoP', await dpopProof(key, `${t.url}/elsewhere`));
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_dpop_proof');
      await exchangeCode(t, spa, code).expect(200); // still unused
    });
  });

  describe('admin API with a DPoP-bound token', () => {
    const adminUrl = () => `${t.url}/admin/clients`;
    let token: string;
    beforeAll(async () => {
      const res = await clientCredentials({ DPoP: await dpopProof(key, tokenUrl) }).expect(200);
      token = res.body.access_token;
    });

    const get = (authorization: string, proof?: string) => {
      let req = request(t.url).get('/admin/clients').set('Authorization', authorization);
      if (proof) req = req.set('DPoP', proof);
      return req;
    };
    const denied = () => audit.ofType('api.access_denied').map((e) => e.reason);

    it('accepts Authorization: DPoP with a proof of the key (htm GET, htu, ath)', async () => {
      const proof = await dpopProof(key, adminUrl(), { htm: 'GET', ath: athOf(token) });
      await get(`DPoP ${token}`, proof).expect(200);
    });

    it('refuses the bound token sent as Bearer (401)', async () => {
      const res = await get(`Bearer ${token}`).expect(401);
      expect(res.body.error).toBe('invalid_token');
      expect(denied()).toEqual(['dpop_proof_missing']);
    });

    it('refuses a missing or wrong ath, another key, a replayed proof: 401 with a DPoP challenge', async () => {
      const cases: Array<[string, string]> = [
        [await dpopProof(key, adminUrl(), { htm: 'GET' }), 'dpop_proof_ath_mismatch'],
        [await dpopProof(key, adminUrl(), { htm: 'GET', ath: athOf('other') }), 'dpop_proof_ath_mismatch'],
        [
          await dpopProof(await dpopKey(), adminUrl(), { htm: 'GET', ath: athOf(token) }),
          'dpop_key_mismatch',
        ],
        [
          await dpopProof(key, `${t.url}/audit/events`, { htm: 'GET', ath: athOf(token) }),
          'dpop_proof_htu_mismatch',
        ],
      ];
      // api.access_denied is written once per (IP, client, reason, route) and window (issue 13): a repeated
      // reason within the window is counted on the first row, not written again
      const seen = new Set<string>();
      for (const [proof, reason] of cases) {
        audit.clear();
        const res = await get(`DPoP ${token}`, proof).expect(401);
        expect(res.body.error).toBe('invalid_dpop_proof');
        expect(res.headers['www-authenticate']).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
        expect(denied()).toEqual(seen.has(reason) ? [] : [reason]);
        seen.add(reason);
      }
      const proof = await dpopProof(key, adminUrl(), { htm: 'GET', ath: athOf(token) });
      await get(`DPoP ${token}`, proof).expect(200);
      audit.clear();
      await get(`DPoP ${token}`, proof).expect(401);
      expect(denied()).toEqual(['dpop_proof_replayed']);
    });

    it('refuses an unbound token sent as DPoP', async () => {
      const plain = (await clientCredentials().expect(200)).body.access_token;
      const proof = await dpopProof(key, adminUrl(), { htm: 'GET', ath: athOf(plain) });
      await get(`DPoP ${plain}`, proof).expect(401);
      expect(denied()).toEqual(['dpop_not_bound']);
      await get(`Bearer ${plain}`).expect(200);
    });
  });
});

describe('DPoP server nonces (DPOP_REQUIRE_NONCE=on)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, DPOP_REQUIRE_NONCE: 'on' });
  });
  afterAll(() => t.close());

  it('answers use_dpop_nonce with a DPoP-Nonce, then accepts a proof carrying it', async () => {
    const client = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'api:read',
      redirectUris: [],
    });
    const key = await dpopKey();
    const url = `${t.url}/oauth/token`;
    const first = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, client, {
      headers: { DPoP: await dpopProof(key, url) },
    });
    expect(first.status).toBe(400);
    expect(first.body.error).toBe('use_dpop_nonce');
    const nonce = first.headers['dpop-nonce'];
    expect(nonce).toEqual(expect.any(String));
    const wrong = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, client, {
      headers: { DPoP: await dpopProof(key, url, { nonce: `${nonce}x` }) },
    });
    expect(wrong.body.error).toBe('use_dpop_nonce');
    const ok = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, client, {
      headers: { DPoP: await dpopProof(key, url, { nonce }) },
    }).expect(200);
    expect(ok.body.token_type).toBe('DPoP');
    // tokens without DPoP need no nonce
    await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, client).expect(200);
  });
});
