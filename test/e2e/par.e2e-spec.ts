import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  authorizePath,
  CookieJar,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  requestIdOf,
  type TestUser,
} from '../factories/authorize';
import { dpopKey, dpopProof, type DpopKey } from '../factories/dpop';
import { pkcePair } from '../factories/pkce';
import { postForm, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/** RFC 9126 pushed authorization requests, and RFC 9449 §10 codes bound to a DPoP key at PAR. */
describe('POST /oauth/par (RFC 9126)', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let spa: TestClient; // public
  let web: TestClient; // confidential
  let user: TestUser;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    spa = await createClient(t, { authMethod: 'none', redirectUris: ['https://spa.example/cb'] });
    web = await createClient(t, { redirectUris: ['https://web.example/cb'] });
    user = await createUser(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const authorizationParams = (client: TestClient, challenge = pkcePair().challenge) => ({
    response_type: 'code',
    redirect_uri: client.redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    scope: 'api:read',
    state: 'st-1',
  });

  const push = (client: TestClient, form: Record<string, string>, headers: Record<string, string> = {}) =>
    postForm(t, '/oauth/par', form, client, { headers });

  /** Follows /oauth/authorize?client_id&request_uri through login and consent to the redirect back. */
  async function browse(path: string): Promise<URL> {
    const jar = new CookieJar();
    let res = await getWithJar(t, jar, path);
    expect(res.status).toBe(302);
    let location = res.headers.location as string;
    if (location.startsWith('/login')) {
      res = await login(t, jar, user, requestIdOf(location));
      location = res.headers.location as string;
    }
    if (location.startsWith('/consent')) {
      const requestId = requestIdOf(location);
      res = await getWithJar(t, jar, location);
      // consent remembered meanwhile (an earlier test): the consent page sends the code right away
      if (res.status !== 302) {
        res = await postFormWithJar(t, jar, '/consent', {
          _csrf: csrfTokenOf(res.text),
          request: requestId,
          decision: 'approve',
        });
      }
      location = res.headers.location as string;
    }
    return new URL(location);
  }

  const viaRequestUri = (clientId: string, requestUri: string) =>
    `/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`;

  it('answers 201 with a request_uri and expires_in, no-store, and audits par.pushed', async () => {
    const res = await push(spa, authorizationParams(spa)).expect(201);
    expect(res.body).toEqual({
      request_uri: expect.stringMatching(/^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/),
      expires_in: 60,
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(audit.ofType('par.pushed')).toHaveLength(1);
    expect(audit.ofType('par.pushed')[0]).toMatchObject({ clientId: spa.clientId, outcome: 'success' });
  });

  it('authenticates confidential clients as the token endpoint does', async () => {
    await push(web, authorizationParams(web)).expect(201);
    const res = await postForm(t, '/oauth/par', { ...authorizationParams(web), client_id: web.clientId });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(audit.ofType('client.authentication_failed')).toHaveLength(1);
  });

  it.each([
    ['a missing code_challenge', { code_challenge: '' }, 'invalid_request', 'pkce_missing_challenge'],
    ['the plain PKCE method', { code_challenge_method: 'plain' }, 'invalid_request', 'pkce_plain_rejected'],
    [
      'another response_type',
      { response_type: 'token' },
      'unsupported_response_type',
      'unsupported_response_type',
    ],
    ['an unregistered scope', { scope: 'clients:write' }, 'invalid_scope', 'invalid_scope'],
    [
      'an unregistered redirect_uri',
      { redirect_uri: 'https://evil.example/cb' },
      'invalid_request',
      'redirect_uri_mismatch',
    ],
    [
      'a request_uri',
      { request_uri: 'urn:ietf:params:oauth:request_uri:x' },
      'invalid_request',
      'invalid_request',
    ],
  ])('answers %s with a JSON error, never a redirect', async (_name, change, error, reason) => {
    const form: Record<string, string> = { ...authorizationParams(spa), ...change };
    for (const [k, v] of Object.entries(form)) if (v === '') delete form[k];
    const res = await push(spa, form);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body.error).toBe(error);
    expect(audit.ofType('par.request_failed').map((e) => e.reason)).toEqual([reason]);
  });

  it('uses only the pushed parameters at /oauth/authorize, once', async () => {
    const pushed = await push(spa, authorizationParams(spa)).expect(201);
    const path = `${viaRequestUri(spa.clientId, pushed.body.request_uri)}&state=tampered&scope=api:write`;
    const callback = await browse(path);
    expect(callback.origin + callback.pathname).toBe(spa.redirectUri);
    expect(callback.searchParams.get('state')).toBe('st-1');
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    const [code] = await sql<{ scope: string }>(
      t.dataSource,
      `SELECT scope FROM authorization_codes ORDER BY created_at DESC LIMIT 1`,
    );
    expect(code.scope).toBe('api:read');

    // used twice → 400 page, never a redirect
    audit.clear();
    const again = await request(t.url).get(viaRequestUri(spa.clientId, pushed.body.request_uri)).redirects(0);
    expect(again.status).toBe(400);
    expect(again.headers['content-type']).toMatch(/text\/html/);
    expect(audit.ofType('authorization.rejected').map((e) => e.reason)).toEqual(['request_uri_invalid']);
  });

  it("refuses another client's request_uri, an unknown one and an expired one (400 page)", async () => {
    const pushed = await push(spa, authorizationParams(spa)).expect(201);
    const other = await request(t.url).get(viaRequestUri(web.clientId, pushed.body.request_uri)).redirects(0);
    expect(other.status).toBe(400);
    const unknown = await request(t.url)
      .get(viaRequestUri(spa.clientId, `urn:ietf:params:oauth:request_uri:${'A'.repeat(43)}`))
      .redirects(0);
    expect(unknown.status).toBe(400);
    // client_ids that cannot exist (a NUL byte, 5,000 characters) are refused the same way, never a 500
    for (const junk of ['\u0000', 'a'.repeat(5000), `${spa.clientId}\u0000`]) {
      const res = await request(t.url).get(viaRequestUri(junk, pushed.body.request_uri)).redirects(0);
      expect(res.status).toBe(400);
    }
    // the other client's attempt did not use it up
    const own = await request(t.url).get(viaRequestUri(spa.clientId, pushed.body.request_uri)).redirects(0);
    expect(own.status).toBe(302);

    const late = await push(spa, authorizationParams(spa)).expect(201);
    await sql(
      t.dataSource,
      `UPDATE pushed_authorization_requests SET expires_at = now() - interval '1 second'`,
    );
    const expired = await request(t.url).get(viaRequestUri(spa.clientId, late.body.request_uri)).redirects(0);
    expect(expired.status).toBe(400);
  });

  it('requires PAR for a client registered with require_pushed_authorization_requests', async () => {
    const strict = await createClient(t, { authMethod: 'none', redirectUris: ['https://strict.example/cb'] });
    await sql(
      t.dataSource,
      `UPDATE clients SET require_pushed_authorization_requests = true WHERE client_id = $1`,
      [strict.clientId],
    );
    const direct = await request(t.url)
      .get(
        authorizePath({
          client_id: strict.clientId,
          redirect_uri: strict.redirectUri,
          code_challenge: pkcePair().challenge,
          state: 's',
        }),
      )
      .redirects(0)
      .expect(302);
    const location = new URL(direct.headers.location as string);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('s');
    expect(audit.ofType('authorization.rejected').map((e) => e.reason)).toEqual(['par_required']);
    const pushed = await push(strict, authorizationParams(strict)).expect(201);
    await request(t.url)
      .get(viaRequestUri(strict.clientId, pushed.body.request_uri))
      .redirects(0)
      .expect(302);
  });

  describe('a code bound to a DPoP key at PAR (RFC 9449 §10)', () => {
    let key: DpopKey;
    beforeAll(async () => {
      key = await dpopKey();
    });

    async function boundCode() {
      const { verifier, challenge } = pkcePair();
      const pushed = await push(spa, authorizationParams(spa, challenge), {
        DPoP: await dpopProof(key, `${t.url}/oauth/par`),
      }).expect(201);
      const callback = await browse(viaRequestUri(spa.clientId, pushed.body.request_uri));
      return { code: callback.searchParams.get('code')!, verifier };
    }

    const exchange = (code: { code: string; verifier: string }, headers: Record<string, string> = {}) =>
      postForm(
        t,
        '/oauth/token',
        {
          grant_type: 'authorization_code',
          code: code.code,
          redirect_uri: spa.redirectUri,
          code_verifier: code.verifier,
        },
        spa,
        { headers },
      );

    it('is exchanged only with a proof of that key: another key or none → invalid_grant', async () => {
      const code = await boundCode();
      audit.clear();
      let res = await exchange(code, { DPoP: await dpopProof(await dpopKey(), `${t.url}/oauth/token`) });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      res = await exchange(code);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(audit.ofType('token.request_failed').map((e) => e.reason)).toEqual([
        'dpop_key_mismatch',
        'dpop_key_mismatch',
      ]);
      res = await exchange(code, { DPoP: await dpopProof(key, `${t.url}/oauth/token`) }).expect(200);
      expect(res.body.token_type).toBe('DPoP');
    });

    it('refuses an invalid proof at PAR (400 invalid_dpop_proof, audited)', async () => {
      const res = await push(spa, authorizationParams(spa), {
        DPoP: await dpopProof(key, `${t.url}/oauth/token`),
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_dpop_proof');
      expect(audit.ofType('par.request_failed').map((e) => e.reason)).toEqual(['dpop_proof_htu_mismatch']);
    });
  });
});

describe('REQUIRE_PAR=on', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, REQUIRE_PAR: 'on' });
  });
  afterAll(() => t.close());

  it('refuses an authorization request that was not pushed (error redirect invalid_request)', async () => {
    const client = await createClient(t, { authMethod: 'none', redirectUris: ['https://spa.example/cb'] });
    const res = await request(t.url)
      .get(
        authorizePath({
          client_id: client.clientId,
          redirect_uri: client.redirectUri,
          code_challenge: pkcePair().challenge,
        }),
      )
      .redirects(0)
      .expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('error')).toBe('invalid_request');
    const pushed = await postForm(
      t,
      '/oauth/par',
      {
        response_type: 'code',
        redirect_uri: client.redirectUri,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
      },
      client,
    ).expect(201);
    const ok = await request(t.url)
      .get(
        `/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: pushed.body.request_uri })}`,
      )
      .redirects(0);
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toMatch(/^\/login\?request=/);
  });
});
