import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { sql } from '../../src/database/sql';
import { KeyStore } from '../../src/keys/key-store.service';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { CookieJar, csrfTokenOf, getWithJar, postFormWithJar } from '../factories/authorize';
import { browse } from '../factories/oidc';
import { pkcePair } from '../factories/pkce';
import { exchangeCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { createUser, type TestUser } from '../factories/users';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/**
 * RP-Initiated Logout 1.0 at /oauth/logout: the session ends on the server and its cookies are cleared;
 * post_logout_redirect_uri only when registered and the client known (valid id_token_hint or client_id);
 * without a valid hint the user confirms through a CSRF-protected form; an invalid hint is refused.
 */
describe('RP-initiated logout', () => {
  let t: TestApp;
  let user: TestUser;
  let app: TestClient;
  let audit: AuditEventRecorder;
  const SIGNED_OUT = 'https://app.example/signed-out';

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    user = await createUser(t);
    app = await createClient(t, { redirectUris: ['https://app.example/callback'], scope: 'openid api:read' });
    await sql(t.dataSource, `UPDATE clients SET post_logout_redirect_uris = $2 WHERE client_id = $1`, [
      app.clientId,
      [SIGNED_OUT],
    ]);
  });
  afterAll(() => t.close());

  /** A browser signed in to Latchkey, and the id_token the client got. */
  async function signedIn(): Promise<{ jar: CookieJar; idToken: string }> {
    const jar = new CookieJar();
    const { verifier, challenge } = pkcePair();
    const q = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      response_type: 'code',
      scope: 'openid',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const callback = await browse(t, jar, user, `/oauth/authorize?${q}`);
    const res = await exchangeCode(t, app, { code: callback.searchParams.get('code')!, verifier });
    expect(res.body.id_token).toEqual(expect.any(String));
    return { jar, idToken: res.body.id_token };
  }
  const alive = async (jar: CookieJar) =>
    (await getWithJar(t, jar, '/login')).text.includes('You are signed in');
  const logoutPath = (params: Record<string, string>) => `/oauth/logout?${new URLSearchParams(params)}`;

  it('with a valid id_token_hint: ends the session, clears its cookies and returns to the registered URI with state', async () => {
    const { jar, idToken } = await signedIn();
    const res = await getWithJar(
      t,
      jar,
      logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT, state: 'xyz' }),
    );
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${SIGNED_OUT}?state=xyz`);
    const cleared = (res.headers['set-cookie'] as unknown as string[]).join('\n');
    expect(cleared).toMatch(/lk_session=;/);
    expect(await alive(jar)).toBe(false);
    expect(audit.ofType('logout.completed').at(-1)).toMatchObject({
      clientId: app.clientId,
      subject: user.id,
      details: { session_ended: true, id_token_hint: true, redirected: true },
    });
  });

  it('accepts an expired id_token_hint', async () => {
    const { jar, idToken } = await signedIn();
    const claims = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
    const expired = t
      .get(KeyStore)
      .signJwt({ ...claims, iat: claims.iat - 7200, exp: claims.exp - 7200 }, 'JWT');
    const res = await getWithJar(
      t,
      jar,
      logoutPath({ id_token_hint: expired, post_logout_redirect_uri: SIGNED_OUT }),
    );
    expect(res.headers.location).toBe(SIGNED_OUT);
    expect(await alive(jar)).toBe(false);
  });

  it('refuses a tampered or foreign id_token_hint (400, the session stays)', async () => {
    const { jar, idToken } = await signedIn();
    const [h, p, s] = idToken.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'someone-else' })).toString('base64url')}.${s}`;
    const { privateKey } = await generateKeyPair('ES256');
    const foreign = await new SignJWT(payload)
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'JWT',
        kid: JSON.parse(Buffer.from(h, 'base64url').toString()).kid,
      })
      .sign(privateKey);
    for (const hint of [tampered, foreign, 'not-a-jwt']) {
      const res = await getWithJar(
        t,
        jar,
        logoutPath({ id_token_hint: hint, post_logout_redirect_uri: SIGNED_OUT }),
      );
      expect(res.status).toBe(400);
      expect(res.headers.location).toBeUndefined();
    }
    expect(await alive(jar)).toBe(true);
    expect(audit.ofType('logout.refused').at(-1)).toMatchObject({
      outcome: 'failure',
      reason: 'id_token_hint_invalid',
    });
  });

  it('does not redirect to a post_logout_redirect_uri that is not registered', async () => {
    const { jar, idToken } = await signedIn();
    const res = await getWithJar(
      t,
      jar,
      logoutPath({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/', state: 's' }),
    );
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are signed out');
    expect(await alive(jar)).toBe(false);
    expect(audit.ofType('logout.completed').at(-1)).toMatchObject({
      details: { redirected: false, redirect_refused: 'post_logout_redirect_uri_not_registered' },
    });
  });

  it('asks the signed-in user to confirm a logout without a hint (CSRF-protected), then honours client_id', async () => {
    const { jar } = await signedIn();
    const page = await getWithJar(
      t,
      jar,
      logoutPath({ client_id: app.clientId, post_logout_redirect_uri: SIGNED_OUT, state: 'st' }),
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign out of Latchkey?');
    expect(await alive(jar)).toBe(true); // a third-party page linking here signs no one out

    // a cross-site form post without the token is refused
    const forged = await request(t.url)
      .post('/oauth/logout')
      .set('Cookie', jar.header())
      .type('form')
      .send({ client_id: app.clientId, post_logout_redirect_uri: SIGNED_OUT });
    expect(forged.status).toBe(403);
    expect(await alive(jar)).toBe(true);

    const confirmed = await postFormWithJar(t, jar, '/oauth/logout', {
      _csrf: csrfTokenOf(page.text),
      client_id: app.clientId,
      post_logout_redirect_uri: SIGNED_OUT,
      state: 'st',
    });
    expect(confirmed.status).toBe(302);
    expect(confirmed.headers.location).toBe(`${SIGNED_OUT}?state=st`);
    expect(await alive(jar)).toBe(false);
  });

  it('shows the signed-out page when there is no session', async () => {
    const res = await request(t.url).get('/oauth/logout');
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are signed out');
  });
});
