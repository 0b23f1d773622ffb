import request from 'supertest';
import { CookieJar, csrfTokenOf, getWithJar, loginAndConsent } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, createClient } from '../factories/clients';

const ISSUER = 'https://auth.example.test';

/** With an https issuer every cookie is Secure (and __Host- prefixed); iss is the configured issuer. */
describe('cookies and iss behind an https issuer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ ISSUER });
  });
  afterAll(() => t.close());

  it('sets the CSRF cookie Secure, HttpOnly, SameSite=Lax with the __Host- prefix', async () => {
    const res = await request(t.url).get('/login');
    const [cookie] = res.headers['set-cookie'] as unknown as string[];
    expect(cookie).toMatch(/^__Host-lk_csrf=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(res.headers['content-security-policy']).toContain('upgrade-insecure-requests');
    expect(res.headers['content-security-policy']).not.toContain('form-action');
  });

  it('sets every cookie of the flow Secure, HttpOnly and SameSite=Lax, and sends iss = ISSUER', async () => {
    const client = await createClient(t, PUBLIC_CLIENT);
    const seen: string[] = [];
    const jar = new CookieJar();
    const store = jar.store.bind(jar);
    jar.store = (res) => {
      const lines = store(res);
      seen.push(...lines);
      return lines;
    };
    const { location } = await loginAndConsent(t, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      challenge: pkcePair().challenge,
      state: 'x',
      jar,
    });
    expect(new URL(location).searchParams.get('iss')).toBe(ISSUER);
    expect(seen.map((c) => c.split('=')[0]).sort()).toEqual(['__Host-lk_csrf', '__Host-lk_session']);
    for (const cookie of seen) {
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; Secure/);
      expect(cookie).toMatch(/; SameSite=Lax/);
    }
    const logoutPage = await getWithJar(t, jar, '/login');
    const out = await request(t.url)
      .post('/logout')
      .set('Cookie', jar.header())
      .type('form')
      .send({ _csrf: csrfTokenOf(logoutPage.text) });
    const cleared = (out.headers['set-cookie'] as unknown as string[])[0];
    expect(cleared).toMatch(/^__Host-lk_session=;/);
    expect(cleared).toMatch(/; Secure/);
    expect(cleared).toMatch(/; HttpOnly/);
  });

  it('ignores a cookie without the prefix (it could have been planted over http)', async () => {
    const jar = new CookieJar();
    const page = await getWithJar(t, jar, '/login');
    const seed = jar.get('__Host-lk_csrf')!;
    const res = await request(t.url)
      .post('/login')
      .set('Cookie', `lk_csrf=${seed}`)
      .type('form')
      .send({ _csrf: csrfTokenOf(page.text), username: 'x', password: 'y' });
    expect(res.status).toBe(403);
  });
});
