import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  hash,
  LATCHKEY_CLIENT_STORE,
  LatchkeyClientModule,
  LatchkeyClientService,
  LatchkeySession,
  SignedInGuard,
  type LatchkeyClientStore,
  type LatchkeyRequestSession,
  type SignInEvent,
} from '@latchkey/pkce-client';
import {
  AccessToken,
  AccessTokenVerifier,
  Introspect,
  LatchkeyResourceServerModule,
  Scopes,
  type VerifiedAccessToken,
} from '@latchkey/resource-server';
import {
  CookieJar,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  requestIdOf,
} from '../factories/authorize';
import { introspectionClient, refresh, revoke, TOKEN_TEST_ENV } from '../factories/tokens';
import { createUser, type TestUser } from '../factories/users';
import { createTestApp, freePort, type TestApp } from '../helpers/test-app';
import { KeyStore } from '../../src/keys/key-store.service';
import { insertGrant, mintAccessToken, createClient, type TestClient } from '../factories/clients';

const AUDIENCE = 'https://invoices.example';

@Controller()
class AppController {
  @Get('me')
  @UseGuards(SignedInGuard)
  me(@LatchkeySession() session: LatchkeyRequestSession) {
    return { subject: session.subject, scope: session.scope };
  }

  @Get('api/invoices')
  @Scopes('api:read')
  invoices(@AccessToken() token: VerifiedAccessToken) {
    return { sub: token.subject, client_id: token.clientId, scopes: token.scopes };
  }

  @Get('api/invoices/live')
  @Scopes('api:read')
  @Introspect()
  live() {
    return { live: true };
  }

  @Get('api/payments')
  @Scopes('payments:write')
  payments() {
    return {};
  }
}

/**
 * Both libraries against a real Latchkey (the whole app, PGlite or PostgreSQL) through real HTTP: a team's
 * Nest app (Fastify) signs users in with LatchkeyClientModule (a confidential client) and protects its API
 * with LatchkeyResourceServerModule. The browser is simulated with cookie jars for both origins.
 */
describe('LatchkeyClientModule and LatchkeyResourceServerModule against Latchkey', () => {
  let t: TestApp;
  let app: NestFastifyApplication;
  let bff: string;
  let client: TestClient;
  let resourceServer: TestClient;
  let user: TestUser;
  let service: LatchkeyClientService;
  let store: LatchkeyClientStore;
  const events: SignInEvent[] = [];
  /** the reasons of the sign_in.rejected events since the last call */
  const rejections = () =>
    events
      .splice(0)
      .filter((e) => e.type === 'sign_in.rejected')
      .map((e) => e.details.reason);

  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, ACCESS_TOKEN_AUDIENCE: AUDIENCE, KEY_PUBLISH_DELAY: '0s' });
    const port = await freePort();
    bff = `http://127.0.0.1:${port}`;
    client = await createClient(t, {
      redirectUris: [`${bff}/auth/callback`],
      scope: 'api:read api:write',
    });
    resourceServer = await introspectionClient(t);
    user = await createUser(t);

    @Module({
      imports: [
        LatchkeyClientModule.forRoot({
          issuer: t.url,
          clientId: client.clientId,
          clientSecret: client.clientSecret!,
          redirectUri: `${bff}/auth/callback`,
          scope: 'api:read api:write',
          postLogoutRedirectUri: `${bff}/`,
          onEvent: (e) => {
            events.push(e);
          },
        }),
        LatchkeyResourceServerModule.forRoot({
          issuer: t.url,
          audience: AUDIENCE,
          introspection: { clientId: resourceServer.clientId, clientSecret: resourceServer.clientSecret! },
        }),
      ],
      controllers: [AppController],
    })
    class TeamAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [TeamAppModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(port, '127.0.0.1');
    service = app.get(LatchkeyClientService);
    store = app.get(LATCHKEY_CLIENT_STORE);
  });
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });
  beforeEach(() => {
    events.length = 0;
  });
  afterEach(() => {
    service.now = Date.now;
  });

  /** The team app's side of the browser: one cookie (the session id), no redirect following. */
  class Browser {
    session?: string;
    readonly latchkey = new CookieJar();
    async get(path: string, init: RequestInit = {}): Promise<Response> {
      const res = await fetch(new URL(path, bff), {
        ...init,
        redirect: 'manual',
        headers: { ...(this.session ? { cookie: `latchkey_session=${this.session}` } : {}), ...init.headers },
      });
      for (const line of res.headers.getSetCookie()) {
        const m = /^latchkey_session=([^;]*)/.exec(line);
        if (m) this.session = m[1] || undefined;
      }
      return res;
    }
    /** Latchkey's pages: sign in and approve (or deny) the consent; returns the redirect back to the app. */
    async atLatchkey(authorizeUrl: string, decision: 'approve' | 'deny' = 'approve'): Promise<string> {
      const url = new URL(authorizeUrl);
      let path = url.pathname + url.search;
      for (let step = 0; step < 6; step++) {
        let res;
        if (path.startsWith('/login')) {
          res = await login(t, this.latchkey, user, requestIdOf(path));
        } else {
          res = await getWithJar(t, this.latchkey, path);
          if (path.startsWith('/consent') && res.status === 200) {
            res = await postFormWithJar(t, this.latchkey, '/consent', {
              _csrf: csrfTokenOf(res.text),
              request: requestIdOf(path),
              decision,
            });
          }
        }
        const location = res.headers.location as string | undefined;
        if (!location)
          throw new Error(`Latchkey answered ${res.status} at ${path}: ${res.text.slice(0, 300)}`);
        if (location.startsWith(`${bff}/`)) {
          expect(location.startsWith(`${bff}/auth/callback?`)).toBe(true);
          return location;
        }
        path = location.startsWith('/') ? location : new URL(location).pathname + new URL(location).search;
      }
      throw new Error('too many redirects at Latchkey');
    }
    /** GET /auth/login → Latchkey → the callback URL (not yet visited). */
    async startSignIn(returnTo = '/me'): Promise<{ authorizeUrl: URL; callback: string }> {
      const res = await this.get(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      expect(res.status).toBe(302);
      const authorizeUrl = new URL(res.headers.get('location')!);
      return { authorizeUrl, callback: await this.atLatchkey(authorizeUrl.href) };
    }
    async signIn(): Promise<void> {
      const { callback } = await this.startSignIn();
      const res = await this.get(callback);
      expect(res.status).toBe(302);
    }
  }

  async function storedTokens(browser: Browser) {
    return store.getSession(hash(browser.session!));
  }

  it('signs in: S256 challenge, state, session-bound callback, code exchange, a new session id', async () => {
    const browser = new Browser();
    const res = await browser.get('/auth/login?returnTo=/me');
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookie = res.headers.getSetCookie().join('\n');
    expect(cookie).toMatch(
      /^latchkey_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/,
    );
    const authorizeUrl = new URL(res.headers.get('location')!);
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${t.url}/oauth/authorize`);
    const q = authorizeUrl.searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('nonce')).toBeNull(); // no openid in the scope
    expect(q.get('client_id')).toBe(client.clientId);
    // the verifier never reaches the browser: nothing but the session id is in the cookie or the URL
    expect(authorizeUrl.href).not.toContain('code_verifier');

    const firstSession = browser.session;
    const callback = await browser.atLatchkey(authorizeUrl.href);
    expect(new URL(callback).searchParams.get('iss')).toBe(t.url);
    const done = await browser.get(callback);
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe('/me');
    expect(browser.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.session).not.toBe(firstSession); // no session fixation

    const me = await browser.get('/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ subject: user.id, scope: 'api:read api:write' });
    expect(events.splice(0)).toEqual([
      { type: 'sign_in.completed', outcome: 'success', subject: user.id, details: {} },
    ]);
  });

  it('refuses a reused callback (the verifier is single-use)', async () => {
    const browser = new Browser();
    const { callback } = await browser.startSignIn();
    expect((await browser.get(callback)).status).toBe(302);
    const again = await browser.get(callback);
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({
      error: 'invalid_request',
      error_description: 'unknown, expired or already used state',
    });
    expect(rejections()).toEqual(['state_unknown']);
  });

  it('refuses a callback with a state it never issued, and one without state', async () => {
    const browser = new Browser();
    const { callback } = await browser.startSignIn();
    const forged = new URL(callback);
    forged.searchParams.set('state', 'A'.repeat(43));
    const res = await browser.get(forged.pathname + forged.search);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error_description).toBe('unknown, expired or already used state');
    forged.searchParams.delete('state');
    const none = await browser.get(forged.pathname + forged.search);
    expect([none.status, ((await none.json()) as any).error_description]).toEqual([
      400,
      'the callback has no state',
    ]);
  });

  it('refuses a callback arriving in another browser session (login CSRF), and burns the state', async () => {
    const victim = new Browser();
    const attacker = new Browser();
    const { callback } = await attacker.startSignIn();
    await victim.get('/auth/login'); // the victim has a session of their own
    const res = await victim.get(callback);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error_description).toBe(
      'the sign-in was started in another browser session',
    );
    expect((await attacker.get(callback)).status).toBe(400); // single-use even so
    const noCookie = new Browser();
    const { callback: other } = await attacker.startSignIn();
    expect((await noCookie.get(other)).status).toBe(400);
    expect(rejections()).toEqual(['session_mismatch', 'state_unknown', 'session_mismatch']);
  });

  it('refuses a callback after 15 minutes', async () => {
    const browser = new Browser();
    const { callback } = await browser.startSignIn();
    service.now = () => Date.now() + 15 * 60_000 + 1000;
    const res = await browser.get(callback);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error_description).toBe('unknown, expired or already used state');
  });

  it('refuses a callback whose iss is not Latchkey (RFC 9207 mix-up defence), or has none', async () => {
    const browser = new Browser();
    const { callback } = await browser.startSignIn();
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://evil.example');
    const res = await browser.get(mixedUp.pathname + mixedUp.search);
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).toMatch(/iss/);

    const { callback: second } = await browser.startSignIn();
    const noIss = new URL(second);
    noIss.searchParams.delete('iss');
    const res2 = await browser.get(noIss.pathname + noIss.search);
    expect(res2.status).toBe(400);
    expect(((await res2.json()) as any).error_description).toMatch(/iss/);
    expect(rejections()).toEqual(['invalid_response', 'invalid_response']);
  });

  it('turns an error response (consent denied) into 403 access_denied, never a session', async () => {
    const denying = await createClient(t, {
      redirectUris: [`${bff}/auth/callback`],
      scope: 'api:read api:write',
    });
    // the denial needs a consent page: a user who never consented to this client
    const other = new Browser();
    const saved = user;
    user = await createUser(t);
    try {
      const res = await other.get('/auth/login');
      const authorizeUrl = new URL(res.headers.get('location')!);
      authorizeUrl.searchParams.set('client_id', denying.clientId);
      const callback = await other.atLatchkey(authorizeUrl.href, 'deny');
      expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
      const done = await other.get(callback);
      expect(done.status).toBe(403);
      expect(((await done.json()) as any).error).toBe('access_denied');
      expect(rejections()).toEqual(['authorization_error']);
      expect((await other.get('/me')).status).toBe(401);
    } finally {
      user = saved;
    }
  });

  it('refreshes the access token when it is about to expire (rotation), keeping the session', async () => {
    const browser = new Browser();
    await browser.signIn();
    const before = (await storedTokens(browser))!;
    service.now = () => Date.now() + 15 * 60_000; // the 15-minute access token is expiring
    expect((await browser.get('/me')).status).toBe(200);
    service.now = Date.now;
    const after = (await storedTokens(browser))!;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    // the old refresh token was rotated away at Latchkey
    expect((await refresh(t, client, before.refreshToken!)).status).toBe(400);
  });

  it('concurrent requests of one session refresh once (a rotated token presented twice would revoke the grant)', async () => {
    const browser = new Browser();
    await browser.signIn();
    service.now = () => Date.now() + 15 * 60_000;
    const results = await Promise.all(Array.from({ length: 4 }, () => browser.get('/me')));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    service.now = Date.now;
    expect((await browser.get('/me')).status).toBe(200);
  });

  it('signs out: tokens forgotten, refresh token revoked, then Latchkey logout with the contract parameters', async () => {
    const browser = new Browser();
    await browser.signIn();
    const tokens = (await storedTokens(browser))!;
    const res = await browser.get('/auth/logout', { method: 'POST' });
    expect(res.status).toBe(302);
    const logout = new URL(res.headers.get('location')!);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${t.url}/oauth/logout`);
    expect(Object.fromEntries(logout.searchParams)).toEqual({
      client_id: client.clientId,
      post_logout_redirect_uri: `${bff}/`,
    });
    expect(browser.session).toBeUndefined();
    expect(events.splice(0).map((e) => e.type)).toEqual(['sign_in.completed', 'session.ended']); // this test's
    expect((await browser.get('/me')).status).toBe(401);
    const refreshed = await refresh(t, client, tokens.refreshToken!);
    expect([refreshed.status, refreshed.body.error]).toEqual([400, 'invalid_grant']);
  });

  it('lets the signed-in session call the protected API, whose guard verifies Latchkey tokens', async () => {
    const browser = new Browser();
    await browser.signIn();
    const { accessToken } = (await storedTokens(browser))!;
    const res = await fetch(`${bff}/api/invoices`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({
      sub: user.id,
      client_id: client.clientId,
      scopes: ['api:read', 'api:write'],
    });

    const noScope = await fetch(`${bff}/api/payments`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(noScope.status).toBe(403);
    expect(noScope.headers.get('www-authenticate')).toMatch(/^Bearer error="insufficient_scope"/);
    const none = await fetch(`${bff}/api/invoices`);
    expect(none.status).toBe(401);
  });

  it('refuses a Latchkey token for another audience (a built-in-scope token has aud = the issuer)', async () => {
    const admin = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'api:read clients:read',
    });
    const res = await fetch(`${t.url}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${admin.clientId}:${admin.clientSecret}`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=api:read%20clients:read',
    });
    const { access_token } = (await res.json()) as any as { access_token: string };
    const refused = await fetch(`${bff}/api/invoices`, {
      headers: { authorization: `Bearer ${access_token}` },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /error="invalid_token", error_description="[^"]*aud/,
    );
  });

  it('@Introspect() routes see a revocation at once (after the short cache); others until expiry', async () => {
    const browser = new Browser();
    await browser.signIn();
    const { accessToken } = (await storedTokens(browser))!;
    const call = (path: string) =>
      fetch(`${bff}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await call('/api/invoices/live')).status).toBe(200);
    expect((await revoke(t, client, accessToken)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5_100)); // the default 5 s cache
    const live = await call('/api/invoices/live');
    expect(live.status).toBe(401);
    expect(live.headers.get('www-authenticate')).toMatch(
      /error="invalid_token", error_description="[^"]*no longer active/,
    );
    expect((await call('/api/invoices')).status).toBe(200); // local verification only: valid until exp
  });

  it('follows a key rotation at Latchkey: a token signed with the new key makes the guard fetch the JWKS again', async () => {
    const verifier = new AccessTokenVerifier({ issuer: t.url, audience: AUDIENCE, jwksCooldownMs: 0 });
    const grantId = await insertGrant(t, client.clientId, 'api:read');
    const mint = () =>
      mintAccessToken(t, { clientId: client.clientId, scope: 'api:read', grantId }, { aud: AUDIENCE });
    const request = (token: string) => ({
      method: 'GET',
      url: `${bff}/api/invoices`,
      authorization: `Bearer ${token}`,
      dpop: undefined,
    });
    const before = mint();
    await verifier.verify(request(before));
    const { kid } = await t.get(KeyStore).rotate(); // KEY_PUBLISH_DELAY 0s: current at once
    const after = mint();
    expect(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString()).kid).toBe(kid);
    await expect(verifier.verify(request(after))).resolves.toMatchObject({ clientId: client.clientId });
    await expect(verifier.verify(request(before))).resolves.toBeTruthy(); // the old key stays in the JWKS
  });
});
