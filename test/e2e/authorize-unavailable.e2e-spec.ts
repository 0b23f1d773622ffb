import request from 'supertest';
import {
  authorizePath,
  CookieJar,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  type TestUser,
} from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, type TestClient, createClient } from '../factories/clients';

/**
 * docs/authorization.md: with the database unavailable /oauth/authorize renders a 503 page, never a redirect (and
 * so do the login and consent pages). The outage is injected where a real one shows: the driver's
 * connection pool refuses connections (ECONNREFUSED), as it does when PostgreSQL is down.
 */
describe('end-user pages while the database is unavailable', () => {
  let t: TestApp;
  let client: TestClient;
  let user: TestUser;
  let pool: { connect: (...args: unknown[]) => unknown };
  let realConnect: (...args: unknown[]) => unknown;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t, PUBLIC_CLIENT);
    user = await createUser(t);
    pool = (t.dataSource.driver as unknown as { master: typeof pool }).master;
    realConnect = pool.connect;
  });
  afterAll(async () => {
    pool.connect = realConnect;
    await t.close();
  });

  function databaseDown() {
    pool.connect = (callback?: unknown) => {
      const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      if (typeof callback === 'function') {
        setImmediate(() => (callback as (e: Error) => void)(err));
        return undefined;
      }
      return Promise.reject(err);
    };
  }
  const databaseUp = () => (pool.connect = realConnect);

  const authorize = () =>
    authorizePath({
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      code_challenge: pkcePair().challenge,
      state: 's',
    });

  function expectUnavailablePage(res: request.Response) {
    expect(res.status).toBe(503);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.text).toContain('<html lang="en">');
  }

  it('answers /oauth/authorize with a 503 page, not a redirect, and recovers', async () => {
    const jar = new CookieJar();
    await login(t, jar, user);
    databaseDown();
    try {
      expectUnavailablePage(await request(t.url).get(authorize()).set('Cookie', jar.header()).redirects(0));
      expectUnavailablePage(await request(t.url).get(authorize()).redirects(0));
    } finally {
      databaseUp();
    }
    const ok = await request(t.url).get(authorize()).redirects(0);
    expect(ok.status).toBe(302);
  });

  it('answers the login form and the consent page with a 503 page', async () => {
    const jar = new CookieJar();
    const start = await getWithJar(t, jar, authorize());
    const loginPage = await getWithJar(t, jar, start.headers.location);
    databaseDown();
    try {
      const res = await postFormWithJar(t, jar, '/login', {
        _csrf: csrfTokenOf(loginPage.text),
        username: user.username,
        password: user.password,
      });
      expectUnavailablePage(res);
    } finally {
      databaseUp();
    }
    const loggedIn = await postFormWithJar(t, jar, '/login', {
      _csrf: csrfTokenOf(loginPage.text),
      username: user.username,
      password: user.password,
      request: new URL(start.headers.location, t.url).searchParams.get('request')!,
    });
    expect(loggedIn.status).toBe(302);
    databaseDown();
    try {
      expectUnavailablePage(await getWithJar(t, jar, loggedIn.headers.location));
    } finally {
      databaseUp();
    }
  });
});
