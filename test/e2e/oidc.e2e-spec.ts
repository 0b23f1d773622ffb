import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import request from 'supertest';
import { sql } from '../../src/database/sql';
import { KeyStore } from '../../src/keys/key-store.service';
import { CookieJar, authorizePath, getWithJar, login, requestIdOf } from '../factories/authorize';
import { auditorToken } from '../factories/audit';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { browse, OIDC_SCOPE, setProfile } from '../factories/oidc';
import { pkcePair } from '../factories/pkce';
import { jwtClaims, postForm, TOKEN_TEST_ENV } from '../factories/tokens';
import { createUser, type TestUser } from '../factories/users';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/**
 * OpenID Connect Core for the code flow, driven by panva's oauth4webapi as the relying party: discovery,
 * id_token (nonce, auth_time, amr, sid, profile and email claims), refresh, userinfo; prompt and max_age
 * with the OIDC error codes; the negative cases of issue 15.
 */
describe('OpenID Connect', () => {
  const insecure = { [oauth.allowInsecureRequests]: true };
  let t: TestApp;
  let as: oauth.AuthorizationServer;
  let user: TestUser;
  let web: TestClient;
  let spa: TestClient;
  let audit: AuditEventRecorder;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    user = await createUser(t);
    await setProfile(t, user.id, { name: 'Ada Lovelace', email: 'ada@example.com', emailVerified: true });
    web = await createClient(t, {
      redirectUris: ['https://web.example/callback'],
      scope: `${OIDC_SCOPE} api:read`,
    });
    spa = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:5173/callback'],
      scope: 'openid api:read',
    });
    const issuer = new URL(t.url);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure }),
    );
  });
  afterAll(() => t.close());

  /** An authorization URL as a relying party builds it (PKCE S256, state, nonce unless null). */
  async function authorizationUrl(
    client: TestClient,
    scope: string,
    extra: Record<string, string | null> = {},
  ) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const url = new URL(as.authorization_endpoint!);
    const params: Record<string, string | null> = {
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      response_type: 'code',
      scope,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    };
    for (const [k, v] of Object.entries(params)) if (v !== null) url.searchParams.set(k, v);
    return { url, codeVerifier, state, nonce: params.nonce };
  }

  async function codeResponse(client: TestClient, callback: URL, state: string, codeVerifier: string) {
    const rp: oauth.Client = { client_id: client.clientId };
    const params = oauth.validateAuthResponse(as, rp, callback, state);
    const auth = client.clientSecret ? oauth.ClientSecretBasic(client.clientSecret) : oauth.None();
    return oauth.authorizationCodeGrantRequest(
      as,
      rp,
      auth,
      params,
      client.redirectUri,
      codeVerifier,
      insecure,
    );
  }

  it('publishes discovery consistent with the RFC 8414 metadata', async () => {
    const oidc = (await request(t.url).get('/.well-known/openid-configuration')).body;
    const rfc8414 = (await request(t.url).get('/.well-known/oauth-authorization-server')).body;
    for (const [name, value] of Object.entries(rfc8414)) expect(oidc[name]).toEqual(value);
    expect(oidc).toMatchObject({
      userinfo_endpoint: `${t.url}/oauth/userinfo`,
      end_session_endpoint: `${t.url}/oauth/logout`,
      id_token_signing_alg_values_supported: ['ES256'],
      subject_types_supported: ['public'],
      response_modes_supported: ['query'],
      prompt_values_supported: ['none', 'login', 'consent'],
      request_parameter_supported: false,
      claims_parameter_supported: false,
    });
    expect(oidc.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'name', 'sid']));
    expect(rfc8414.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
  });

  it('runs the code flow: a verified id_token with nonce, auth_time, amr, sid and claims; refresh; userinfo', async () => {
    const { url, codeVerifier, state, nonce } = await authorizationUrl(web, `${OIDC_SCOPE} api:read`, {
      max_age: '300',
    });
    const jar = new CookieJar();
    const before = Math.floor(Date.now() / 1000);
    const callback = await browse(t, jar, user, url);
    const rp: oauth.Client = { client_id: web.clientId };
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      rp,
      await codeResponse(web, callback, state, codeVerifier),
      { expectedNonce: nonce!, maxAge: 300 },
    );
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims).toMatchObject({
      iss: t.url,
      sub: user.id,
      aud: web.clientId,
      nonce,
      amr: ['pwd'],
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Ada Lovelace',
      preferred_username: user.username,
      email: 'ada@example.com',
      email_verified: true,
    });
    expect(claims.auth_time).toBeGreaterThanOrEqual(before - 1);
    expect(claims.exp! - claims.iat).toBe(3600); // ID_TOKEN_TTL default 1h
    expect(jwtClaims(tokens.access_token).sub).toBe(claims.sub);

    // the id_token verified independently against the JWKS
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const verified = await jwtVerify(tokens.id_token!, jwks, {
      issuer: t.url,
      audience: web.clientId,
      algorithms: ['ES256'],
    });
    expect(verified.protectedHeader).toMatchObject({ alg: 'ES256', kid: expect.any(String) });

    // userinfo (GET with oauth4webapi; POST by hand) returns sub and the granted claims
    const info = await oauth.processUserInfoResponse(
      as,
      rp,
      claims.sub,
      await oauth.userInfoRequest(as, rp, tokens.access_token, insecure),
    );
    expect(info).toEqual({
      sub: user.id,
      name: 'Ada Lovelace',
      preferred_username: user.username,
      updated_at: expect.any(Number),
      email: 'ada@example.com',
      email_verified: true,
    });
    const posted = await request(t.url)
      .post('/oauth/userinfo')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    expect(posted.status).toBe(200);
    expect(posted.body.sub).toBe(user.id);

    // refresh: a fresh id_token for the same login (same sub, auth_time, sid), with the profile as it is now
    await setProfile(t, user.id, { name: 'Ada King', email: 'countess@example.com', emailVerified: false });
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      rp,
      await oauth.refreshTokenGrantRequest(
        as,
        rp,
        oauth.ClientSecretBasic(web.clientSecret!),
        tokens.refresh_token!,
        insecure,
      ),
    );
    const again = oauth.getValidatedIdTokenClaims(refreshed)!;
    expect(refreshed.id_token).not.toBe(tokens.id_token);
    expect(again).toMatchObject({
      sub: claims.sub,
      auth_time: claims.auth_time,
      sid: claims.sid,
      name: 'Ada King',
      preferred_username: user.username,
      email: 'countess@example.com',
      email_verified: false,
    });
    expect(again.updated_at).toBeGreaterThanOrEqual(claims.updated_at as number);
    await setProfile(t, user.id, { name: 'Ada Lovelace', email: 'ada@example.com', emailVerified: true });

    const events = audit.ofType('id_token.issued');
    expect(events.filter((e) => e.subject === user.id).length).toBeGreaterThanOrEqual(2);
  });

  it('releases only the claims of the granted scopes, and no id_token without openid', async () => {
    const { url, codeVerifier, state, nonce } = await authorizationUrl(spa, 'openid');
    const callback = await browse(t, new CookieJar(), user, url);
    const rp: oauth.Client = { client_id: spa.clientId, token_endpoint_auth_method: 'none' };
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      rp,
      await codeResponse(spa, callback, state, codeVerifier),
      { expectedNonce: nonce! },
    );
    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims.email).toBeUndefined();
    expect(claims.name).toBeUndefined();
    const info = await request(t.url)
      .get('/oauth/userinfo')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    expect(info.body).toEqual({ sub: user.id });

    const plain = await authorizationUrl(spa, 'api:read');
    const plainCallback = await browse(t, new CookieJar(), user, plain.url);
    const res = await codeResponse(spa, plainCallback, plain.state, plain.codeVerifier);
    const body = (await res.json()) as { id_token?: string; scope: string };
    expect(body.id_token).toBeUndefined();
    expect(body.scope).toBe('api:read');
  });

  it('lets the relying party detect a replayed or missing nonce', async () => {
    const first = await authorizationUrl(spa, 'openid');
    const firstCallback = await browse(t, new CookieJar(), user, first.url);
    const rp: oauth.Client = { client_id: spa.clientId, token_endpoint_auth_method: 'none' };
    // the id_token of one flow presented to a flow that expects another nonce (a replay)
    await expect(
      oauth.processAuthorizationCodeResponse(
        as,
        rp,
        await codeResponse(spa, firstCallback, first.state, first.codeVerifier),
        { expectedNonce: oauth.generateRandomNonce() },
      ),
    ).rejects.toThrow(/nonce/);
    // an authorization request sent without nonce: an id_token without one, which a nonce-checking RP refuses
    const bare = await authorizationUrl(spa, 'openid', { nonce: null });
    const bareCallback = await browse(t, new CookieJar(), user, bare.url);
    const response = await codeResponse(spa, bareCallback, bare.state, bare.codeVerifier);
    await expect(
      oauth.processAuthorizationCodeResponse(as, rp, response.clone(), { expectedNonce: 'n-0S6_WzA2Mj' }),
    ).rejects.toThrow(/nonce/);
    const idToken = ((await response.json()) as { id_token: string }).id_token;
    expect(jwtClaims(idToken).nonce).toBeUndefined();
  });

  it('refuses a nonce over 255 characters and bad prompt or max_age values with invalid_request', async () => {
    const { challenge } = pkcePair();
    const base = {
      client_id: spa.clientId,
      redirect_uri: spa.redirectUri,
      scope: 'openid',
      code_challenge: challenge,
      state: 's1',
    };
    for (const extra of [
      { nonce: 'n'.repeat(256) },
      { prompt: 'none login' },
      { prompt: 'select_account' },
      { max_age: '-1' },
      { max_age: 'soon' },
    ]) {
      const res = await request(t.url)
        .get(authorizePath({ ...base, ...extra }))
        .redirects(0);
      expect(res.status).toBe(302);
      const location = new URL(res.headers.location);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('state')).toBe('s1');
    }
    const ok = await request(t.url)
      .get(authorizePath({ ...base, nonce: 'n'.repeat(255) }))
      .redirects(0);
    expect(ok.headers.location).toMatch(/^\/login\?request=/);
  });

  it('answers prompt=none without a session with login_required, and without consent with consent_required', async () => {
    const { challenge } = pkcePair();
    const params = {
      client_id: spa.clientId,
      redirect_uri: spa.redirectUri,
      scope: 'openid',
      code_challenge: challenge,
      state: 'abc',
      prompt: 'none',
    };
    const res = await request(t.url).get(authorizePath(params)).redirects(0);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(location.origin + location.pathname).toBe(spa.redirectUri);
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      error: 'login_required',
      state: 'abc',
      iss: t.url,
    });

    // a signed-in user who never consented to this client
    const other = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:5174/cb'],
      scope: 'openid',
    });
    const jar = new CookieJar();
    await login(t, jar, user);
    const consent = await getWithJar(
      t,
      jar,
      authorizePath({ ...params, client_id: other.clientId, redirect_uri: other.redirectUri }),
    );
    expect(new URL(consent.headers.location).searchParams.get('error')).toBe('consent_required');

    // after consenting once, prompt=none answers with a code, without any page
    await browse(
      t,
      jar,
      user,
      authorizePath({ ...params, client_id: other.clientId, redirect_uri: other.redirectUri, prompt: null }),
    );
    const silent = await getWithJar(
      t,
      jar,
      authorizePath({ ...params, client_id: other.clientId, redirect_uri: other.redirectUri }),
    );
    expect(new URL(silent.headers.location).searchParams.get('code')).toEqual(expect.any(String));

    const rejected = audit.ofType('authorization.rejected');
    expect(rejected.map((e) => e.details?.reason)).toEqual(
      expect.arrayContaining(['login_required', 'consent_required']),
    );
  });

  it('reports prompt=none probing: 20 login_required answers for one client from one IP', async () => {
    const prober = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:5180/cb'],
      scope: 'openid',
    });
    const { challenge } = pkcePair();
    for (let i = 0; i < 20; i++) {
      const res = await request(t.url)
        .get(
          authorizePath({
            client_id: prober.clientId,
            redirect_uri: prober.redirectUri,
            scope: 'openid',
            code_challenge: challenge,
            prompt: 'none',
          }),
        )
        .redirects(0);
      expect(new URL(res.headers.location).searchParams.get('error')).toBe('login_required');
    }
    const { token } = await auditorToken(t);
    const report = await request(t.url)
      .get('/audit/reports/security')
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect(report.body.findings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          rule: 'prompt_none_probing',
          subject: { type: 'client_id', value: prober.clientId },
          count: 20,
        }),
      ]),
    );
  });

  it('signs the user in again for prompt=login and for an exceeded max_age, with a new auth_time', async () => {
    const jar = new CookieJar();
    const first = await authorizationUrl(spa, 'openid');
    const rp: oauth.Client = { client_id: spa.clientId, token_endpoint_auth_method: 'none' };
    const firstTokens = await oauth.processAuthorizationCodeResponse(
      as,
      rp,
      await codeResponse(spa, await browse(t, jar, user, first.url), first.state, first.codeVerifier),
      { expectedNonce: first.nonce! },
    );
    const firstClaims = oauth.getValidatedIdTokenClaims(firstTokens)!;
    await new Promise((r) => setTimeout(r, 1100)); // auth_time has a resolution of one second

    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      const next = await authorizationUrl(spa, 'openid', extra);
      const res = await getWithJar(t, jar, next.url.pathname + next.url.search);
      expect(res.headers.location).toMatch(/^\/login\?request=.+&prompt=login$/);
      const page = await getWithJar(t, jar, res.headers.location);
      expect(page.status).toBe(200);
      expect(page.text).toContain('signed in as');
      expect(page.text).toContain(user.username);
      // the consent step cannot be reached with the old session
      const consent = await getWithJar(t, jar, `/consent?request=${requestIdOf(res.headers.location)}`);
      expect(consent.headers.location).toMatch(/^\/login\?request=.+&prompt=login$/);

      const callback = await browse(t, jar, user, next.url);
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        rp,
        await codeResponse(spa, callback, next.state, next.codeVerifier),
        { expectedNonce: next.nonce!, ...(extra.max_age ? { maxAge: 0 } : {}) },
      );
      const claims = oauth.getValidatedIdTokenClaims(tokens)!;
      expect(claims.auth_time).toBeGreaterThan(firstClaims.auth_time!);
      expect(claims.sid).not.toBe(firstClaims.sid);
    }
  });

  it('shows the consent page for prompt=consent even when consent is remembered', async () => {
    const jar = new CookieJar();
    const first = await authorizationUrl(spa, 'openid');
    await browse(t, jar, user, first.url); // consents
    const again = await authorizationUrl(spa, 'openid', { prompt: 'consent' });
    const res = await getWithJar(t, jar, again.url.pathname + again.url.search);
    expect(res.headers.location).toMatch(/^\/consent\?request=/);
    const page = await getWithJar(t, jar, res.headers.location);
    expect(page.status).toBe(200);
    expect(page.text).toContain('name="decision"');
  });

  it('never grants the OIDC scopes to client_credentials', async () => {
    const service = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'openid api:read',
      redirectUris: [],
    });
    const res = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, service);
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('api:read');
    expect(res.body.id_token).toBeUndefined();
    const asked = await postForm(
      t,
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'openid' },
      service,
    );
    expect(asked.status).toBe(400);
    expect(asked.body.error).toBe('invalid_scope');
  });

  describe('userinfo refusals', () => {
    async function tokensFor(u: TestUser, scope = 'openid') {
      const flow = await authorizationUrl(spa, scope);
      const callback = await browse(t, new CookieJar(), u, flow.url);
      const res = await codeResponse(spa, callback, flow.state, flow.codeVerifier);
      return (await res.json()) as { access_token: string; refresh_token?: string };
    }

    it('401 without error attribute when no token is sent, invalid_token for a bad one', async () => {
      const none = await request(t.url).get('/oauth/userinfo');
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(none.headers['www-authenticate']).not.toContain('error=');
      const bad = await request(t.url).get('/oauth/userinfo').set('Authorization', 'Bearer abc.def.ghi');
      expect(bad.status).toBe(401);
      expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(bad.body.error).toBe('invalid_token');
      expect(bad.headers['cache-control']).toBe('no-store');
    });

    it('403 insufficient_scope for a token without openid', async () => {
      const tokens = await tokensFor(user, 'api:read');
      const res = await request(t.url)
        .get('/oauth/userinfo')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    });

    it("401 for a disabled user's token and for a revoked grant", async () => {
      const someone = await createUser(t);
      const tokens = await tokensFor(someone);
      const ok = await request(t.url)
        .get('/oauth/userinfo')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(ok.status).toBe(200);
      await sql(t.dataSource, `UPDATE users SET enabled = false WHERE id = $1`, [someone.id]);
      const disabled = await request(t.url)
        .get('/oauth/userinfo')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(disabled.status).toBe(401);
      expect(disabled.headers['www-authenticate']).toContain('error="invalid_token"');
      // introspection agrees, for the access and the refresh token, however the user was disabled
      const rs = await createClient(t, {
        grantTypes: ['client_credentials'],
        scope: 'api:read',
        redirectUris: [],
      });
      for (const token of [tokens.access_token, tokens.refresh_token!])
        expect((await postForm(t, '/oauth/introspect', { token }, rs)).body).toEqual({ active: false });

      const other = await tokensFor(user);
      await postForm(t, '/oauth/revoke', { token: other.refresh_token ?? other.access_token }, spa);
      await sql(t.dataSource, `UPDATE grants SET revoked_at = now() WHERE id = $1`, [
        jwtClaims(other.access_token).gid,
      ]);
      const revoked = await request(t.url)
        .get('/oauth/userinfo')
        .set('Authorization', `Bearer ${other.access_token}`);
      expect(revoked.status).toBe(401);
      const refused = audit.ofType('userinfo.refused');
      expect(refused.map((e) => e.details?.reason)).toEqual(
        expect.arrayContaining(['missing_token', 'invalid_token', 'insufficient_scope']),
      );
    });

    it('answers CORS for the calling client’s redirect-URI origins only', async () => {
      const tokens = await tokensFor(user);
      const allowed = await request(t.url)
        .get('/oauth/userinfo')
        .set('Origin', 'http://127.0.0.1:5173')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(allowed.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173');
      const foreign = await request(t.url)
        .get('/oauth/userinfo')
        .set('Origin', 'https://evil.example')
        .set('Authorization', `Bearer ${tokens.access_token}`);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await request(t.url)
        .options('/oauth/userinfo')
        .set('Origin', 'http://127.0.0.1:5173')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'authorization');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-headers']).toMatch(/Authorization/);
    });
  });

  it('signs id_tokens with a rotated key while the old key still verifies', async () => {
    const flow = await authorizationUrl(spa, 'openid');
    const rp: oauth.Client = { client_id: spa.clientId, token_endpoint_auth_method: 'none' };
    const before = await oauth.processAuthorizationCodeResponse(
      as,
      rp,
      await codeResponse(
        spa,
        await browse(t, new CookieJar(), user, flow.url),
        flow.state,
        flow.codeVerifier,
      ),
      { expectedNonce: flow.nonce! },
    );
    const keys = t.get(KeyStore);
    const { kid } = await keys.rotate();
    await sql(t.dataSource, `UPDATE signing_keys SET activates_at = now() WHERE kid = $1`, [kid]);
    await (keys as unknown as { reload(): Promise<void> }).reload();
    const next = await authorizationUrl(spa, 'openid');
    const after = await oauth.processAuthorizationCodeResponse(
      as,
      rp,
      await codeResponse(
        spa,
        await browse(t, new CookieJar(), user, next.url),
        next.state,
        next.codeVerifier,
      ),
      { expectedNonce: next.nonce! },
    );
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const oldHeader = (await jwtVerify(before.id_token!, jwks, { issuer: t.url })).protectedHeader;
    const newHeader = (await jwtVerify(after.id_token!, jwks, { issuer: t.url })).protectedHeader;
    expect(newHeader.kid).toBe(kid);
    expect(oldHeader.kid).not.toBe(kid);
  });
});
