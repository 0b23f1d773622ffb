import request from 'supertest';
import { sha256Hex } from '../../src/common/crypto';
import { PendingRequestsService } from '../../src/authorization/pending-requests.service';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  authorizePath,
  CookieJar,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  loginAndConsent,
  postFormWithJar,
  requestIdOf,
} from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, type TestClient, createClient } from '../factories/clients';

/** docs/authorization.md, rules 5 and 6: login, consent (remembered or asked), denial, and the code itself. */
describe('authorization code flow: login, consent, code', () => {
  let t: TestApp;
  let client: TestClient;
  let audit: AuditEventRecorder;

  beforeAll(async () => {
    // CLIENT_CACHE_TTL_MS=0: a test below disables a client in the database behind this instance's back
    t = await createTestApp({ AUTH_CODE_TTL: '45s', CLIENT_CACHE_TTL_MS: '0' });
    client = await createClient(t, { ...PUBLIC_CLIENT, clientName: 'Photo Printer <Beta>' });
    audit = recordAuditEvents(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const authorize = (jar: CookieJar, params: Record<string, string | null> = {}) =>
    getWithJar(
      t,
      jar,
      authorizePath({
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        code_challenge: pkcePair().challenge,
        state: 'st-1',
        ...params,
      }),
    );

  /** authorize → login → the consent page; returns the page and its request id. */
  async function toConsentPage(jar: CookieJar, user: { username: string; password: string }, params = {}) {
    const start = await authorize(jar, params);
    let location = start.headers.location as string;
    if (location.startsWith('/login')) {
      const res = await login(t, jar, user, requestIdOf(location));
      expect(res.status).toBe(302);
      location = res.headers.location;
    }
    expect(location).toMatch(/^\/consent\?request=/);
    const page = await getWithJar(t, jar, location);
    return { page, requestId: requestIdOf(location) };
  }

  it('signs in, shows the consent page and redirects back with code, state and iss', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    const { challenge } = pkcePair();
    const start = await authorize(jar, { code_challenge: challenge, scope: 'api:read api:write' });
    expect(start.status).toBe(302);
    const requestId = requestIdOf(start.headers.location);
    expect(start.headers.location).toBe(`/login?request=${requestId}`);

    const loggedIn = await login(t, jar, user, requestId);
    expect(loggedIn.status).toBe(302);
    expect(loggedIn.headers.location).toBe(`/consent?request=${requestId}`);

    const page = await getWithJar(t, jar, loggedIn.headers.location);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('Photo Printer &#60;Beta&#62;'); // the client's name, escaped
    expect(page.text).toContain('<code class="scope">api:read</code>');
    expect(page.text).toContain('<code class="scope">api:write</code>');
    expect(page.text).toMatch(/See your data through the API/);
    expect(page.text).toMatch(/Create, change and delete your data/);
    expect(page.text).toContain('name="decision" value="approve"');
    expect(page.text).toContain('name="decision" value="deny"');
    expect(page.text).toContain(`Signed in as <strong>${user.username}</strong>`);

    const decided = await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(page.text),
      request: requestId,
      decision: 'approve',
    });
    expect(decided.status).toBe(302);
    expect(decided.headers['cache-control']).toBe('no-store');
    const back = new URL(decided.headers.location);
    expect(`${back.origin}${back.pathname}`).toBe(client.redirectUri);
    expect([...back.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
    expect(back.searchParams.get('state')).toBe('st-1');
    expect(back.searchParams.get('iss')).toBe(t.url);
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(audit.ofType('login.succeeded')[0]).toMatchObject({ subject: user.id });
    expect(audit.ofType('consent.granted')[0]).toMatchObject({
      outcome: 'success',
      subject: user.id,
      clientId: client.clientId,
      details: { scope: 'api:read api:write' },
    });
    expect(audit.ofType('authorization_code.issued')[0]).toMatchObject({
      outcome: 'success',
      subject: user.id,
      clientId: client.clientId,
      details: { scope: 'api:read api:write', challenge_sha256: sha256Hex(challenge) },
    });
    expect(JSON.stringify(audit.events)).not.toContain(code);
  });

  it('stores the code only as a SHA-256 hash, bound to client, redirect URI, scope, user and challenge', async () => {
    const { challenge } = pkcePair();
    const { code, user } = await loginAndConsent(t, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      challenge,
      scope: 'api:read',
    });
    const dump: Array<{ row: string }> = await t.dataSource.query(
      `SELECT t::text AS row FROM authorization_codes t`,
    );
    expect(dump.length).toBeGreaterThan(0);
    for (const { row } of dump) expect(row).not.toContain(code);

    const rows: Array<Record<string, unknown>> = await t.dataSource.query(
      `SELECT client_id, user_id, redirect_uri, scope, code_challenge, consumed_at,
              round(extract(epoch FROM expires_at - created_at))::int AS ttl
         FROM authorization_codes WHERE code_hash = $1`,
      [sha256Hex(code)],
    );
    expect(rows).toEqual([
      {
        client_id: client.clientId,
        user_id: user.id,
        redirect_uri: client.redirectUri,
        scope: 'api:read',
        code_challenge: challenge,
        consumed_at: null,
        ttl: 45,
      },
    ]);
  });

  it('skips login and consent the second time in the same browser session', async () => {
    const first = await loginAndConsent(t, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      challenge: pkcePair().challenge,
    });
    audit.clear();
    const again = await authorize(first.cookies, { state: 'second' });
    expect(again.status).toBe(302);
    const back = new URL(again.headers.location);
    expect(`${back.origin}${back.pathname}`).toBe(client.redirectUri);
    expect(back.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(back.searchParams.get('code')).not.toBe(first.code);
    expect(back.searchParams.get('state')).toBe('second');
    expect(back.searchParams.get('iss')).toBe(t.url);
    expect(audit.events.map((e) => e.type)).toEqual(['authorization.requested', 'authorization_code.issued']);
  });

  it('in the one statement of the signed-in path: slides the idle expiry, and an expired session means login', async () => {
    const first = await loginAndConsent(t, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      challenge: pkcePair().challenge,
    });
    const idHash = sha256Hex(first.cookies.get('lk_session')!);
    const sessionRow = async () =>
      (
        await t.dataSource.query(
          `SELECT extract(epoch FROM now() - last_seen_at)::int AS seen, idle_expires_at > now() + interval '20 minutes' AS slid
             FROM sessions WHERE id_hash = $1`,
          [idHash],
        )
      )[0] as { seen: number; slid: boolean };
    // idle for 10 of its 30 minutes: the code is issued and the idle deadline moves
    await t.dataSource.query(
      `UPDATE sessions SET last_seen_at = now() - interval '10 minutes', idle_expires_at = now() + interval '20 minutes'
        WHERE id_hash = $1`,
      [idHash],
    );
    const again = await authorize(first.cookies);
    expect(new URL(again.headers.location).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessionRow()).toEqual({ seen: 0, slid: true });
    // expired: the same browser is sent to the login page and no code is stored
    await t.dataSource.query(
      `UPDATE sessions SET idle_expires_at = now() - interval '1 second' WHERE id_hash = $1`,
      [idHash],
    );
    const [{ n: before }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM authorization_codes`);
    const expired = await authorize(first.cookies);
    expect(expired.headers.location).toMatch(/^\/login\?request=[A-Za-z0-9_-]{40,}$/);
    const [{ n: after }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM authorization_codes`);
    expect(after).toBe(before);
  });

  it('remembers consent for the scopes approved, and asks again for more', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    const first = await loginAndConsent(t, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      challenge: pkcePair().challenge,
      scope: 'api:read',
      user,
      jar,
    });
    expect(first.code).toBeTruthy();

    const subset = await authorize(jar, { scope: 'api:read' });
    expect(subset.headers.location).toMatch(/[?&]code=/);

    const wider = await authorize(jar, { scope: 'api:read api:write' });
    expect(wider.headers.location).toMatch(/^\/consent\?request=/);
    const page = await getWithJar(t, jar, wider.headers.location);
    expect(page.text).toContain('api:write');
    await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(page.text),
      request: requestIdOf(wider.headers.location),
      decision: 'approve',
    });

    const [row]: Array<{ scope: string }> = await t.dataSource.query(
      `SELECT scope FROM consents WHERE user_id = $1 AND client_id = $2`,
      [user.id, client.clientId],
    );
    expect(row.scope.split(' ').sort()).toEqual(['api:read', 'api:write']);
    const absent = await authorize(jar, { scope: null });
    expect(absent.headers.location).toMatch(/[?&]code=/);
  });

  it('asks every time for a client registered with require_consent', async () => {
    const strict = await createClient(t, {
      ...PUBLIC_CLIENT,
      requireConsent: true,
      clientName: 'Strict App',
    });
    const jar = new CookieJar();
    const user = await createUser(t);
    const params = { client_id: strict.clientId, redirect_uri: strict.redirectUri };
    await loginAndConsent(t, {
      clientId: strict.clientId,
      redirectUri: strict.redirectUri,
      challenge: pkcePair().challenge,
      user,
      jar,
    });
    const again = await authorize(jar, params);
    expect(again.headers.location).toMatch(/^\/consent\?request=/);
    const page = await getWithJar(t, jar, again.headers.location);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Strict App');
  });

  it('answers a denial with access_denied, state and iss, and issues no code', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    const { page, requestId } = await toConsentPage(jar, user, { state: 'deny-state' });
    const codesBefore: Array<{ n: number }> = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM authorization_codes`,
    );
    const res = await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(page.text),
      request: requestId,
      decision: 'deny',
    });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.location);
    expect(`${back.origin}${back.pathname}`).toBe(client.redirectUri);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toBeTruthy();
    expect(back.searchParams.get('state')).toBe('deny-state');
    expect(back.searchParams.get('iss')).toBe(t.url);
    expect(back.searchParams.has('code')).toBe(false);
    const codesAfter: Array<{ n: number }> = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM authorization_codes`,
    );
    expect(codesAfter[0].n).toBe(codesBefore[0].n);
    expect(audit.ofType('consent.denied')[0]).toMatchObject({
      outcome: 'failure',
      errorCode: 'access_denied',
      subject: user.id,
      clientId: client.clientId,
    });
    // nothing remembered: the next request asks again
    const again = await authorize(jar);
    expect(again.headers.location).toMatch(/^\/consent\?request=/);
  });

  it('uses a pending request once: a second submission of the consent form gets the expired page', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    const { page, requestId } = await toConsentPage(jar, user);
    const form = { _csrf: csrfTokenOf(page.text), request: requestId, decision: 'approve' };
    const first = await postFormWithJar(t, jar, '/consent', form);
    expect(first.status).toBe(302);
    const second = await postFormWithJar(t, jar, '/consent', form);
    expect(second.status).toBe(400);
    expect(second.headers.location).toBeUndefined();
    expect(second.text).toContain('This sign-in request has expired');
  });

  it('refuses unknown or expired request ids with a page, never a redirect', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    await login(t, jar, user);
    for (const path of ['/consent?request=nope', `/consent?request=${'A'.repeat(43)}`, '/consent']) {
      const res = await getWithJar(t, jar, path);
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
    }
    const start = await authorize(jar);
    const id = requestIdOf(start.headers.location);
    const pending = t.get(PendingRequestsService);
    const request = (await pending.find(id))!;
    expect(request).toBeDefined();
    // the same request, sealed with an expiry in the past (what the same reference becomes after 10 minutes)
    const expiredId = await pending.create({ ...request, minAuthAgeSeconds: null }, -1);
    const expired = await getWithJar(t, jar, `/consent?request=${expiredId}`);
    expect(expired.status).toBe(400);
    expect(expired.text).toContain('This sign-in request has expired');
    // and one altered in a byte
    const altered = Buffer.from(id, 'base64url');
    altered[20] ^= 1;
    const forged = await getWithJar(t, jar, `/consent?request=${altered.toString('base64url')}`);
    expect(forged.status).toBe(400);
    expect(forged.headers.location).toBeUndefined();
  });

  it('refuses a consent form without the right CSRF token (403 page, nothing issued)', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    const { page, requestId } = await toConsentPage(jar, user);
    const token = csrfTokenOf(page.text);

    const missing = await postFormWithJar(t, jar, '/consent', { request: requestId, decision: 'approve' });
    expect(missing.status).toBe(403);
    expect(missing.headers['content-type']).toMatch(/^text\/html/);
    expect(missing.headers.location).toBeUndefined();

    const wrong = await postFormWithJar(t, jar, '/consent', {
      _csrf: token.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
      request: requestId,
      decision: 'approve',
    });
    expect(wrong.status).toBe(403);

    // a token from another user's session is useless here
    const other = new CookieJar();
    const otherPage = await toConsentPage(other, await createUser(t));
    const foreign = await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(otherPage.page.text),
      request: requestId,
      decision: 'approve',
    });
    expect(foreign.status).toBe(403);

    expect(audit.ofType('authorization_code.issued')).toHaveLength(0);
    // the request is still pending: the genuine form works
    const ok = await postFormWithJar(t, jar, '/consent', {
      _csrf: token,
      request: requestId,
      decision: 'approve',
    });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toMatch(/[?&]code=/);
  });

  it('sends a consent visit without a session to the login page of the same request', async () => {
    const jar = new CookieJar();
    const start = await authorize(jar);
    const id = requestIdOf(start.headers.location);
    const res = await getWithJar(t, jar, `/consent?request=${id}`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/login?request=${id}`);
  });

  it('returns after login only to the pending request (no open redirect)', async () => {
    const user = await createUser(t);
    const jar = new CookieJar();
    const page = await getWithJar(t, jar, '/login');
    const res = await postFormWithJar(t, jar, '/login', {
      _csrf: csrfTokenOf(page.text),
      username: user.username,
      password: user.password,
      request: 'https://evil.example/',
    });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login');
    const redirected = await request(t.url)
      .get('/login?request=//evil.example/x')
      .set('Cookie', jar.header())
      .redirects(0);
    expect(redirected.status).toBe(200); // signed-in page, not a redirect to the "request"
  });

  it('goes straight to the consent page for a signed-in user who has not consented yet', async () => {
    const jar = new CookieJar();
    await login(t, jar, await createUser(t));
    const res = await authorize(jar);
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^\/consent\?request=[A-Za-z0-9_-]{40,}$/);
  });

  it('shows an error page when the client was disabled while the user was deciding', async () => {
    const fickle = await createClient(t, PUBLIC_CLIENT);
    const jar = new CookieJar();
    const start = await getWithJar(
      t,
      jar,
      authorizePath({
        client_id: fickle.clientId,
        redirect_uri: fickle.redirectUri,
        code_challenge: pkcePair().challenge,
      }),
    );
    const loggedIn = await login(t, jar, await createUser(t), requestIdOf(start.headers.location));
    const page = await getWithJar(t, jar, loggedIn.headers.location);
    await t.dataSource.query(`UPDATE clients SET enabled = false WHERE client_id = $1`, [fickle.clientId]);
    const res = await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(page.text),
      request: requestIdOf(loggedIn.headers.location),
      decision: 'approve',
    });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });

  it('refuses a consent form without a decision', async () => {
    const jar = new CookieJar();
    const { page, requestId } = await toConsentPage(jar, await createUser(t));
    const res = await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(page.text),
      request: requestId,
      decision: 'maybe',
    });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });
});
