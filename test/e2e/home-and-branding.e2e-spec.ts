import { readFileSync } from 'node:fs';
import request from 'supertest';
import { CookieJar, createUser, getWithJar, login, requestIdOf } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, createClient } from '../factories/clients';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('GET / and /favicon.ico', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('answers a small page with the name, version and links to docs, metadata and health', async () => {
    const res = await request(t.url).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('<title>OAuth 2.1 authorization server · Latchkey</title>');
    expect(res.text).toContain(`Latchkey ${VERSION}`);
    for (const href of [
      '/docs',
      '/.well-known/oauth-authorization-server',
      '/health/ready',
      '/oauth/jwks',
      '/audit',
    ])
      expect(res.text).toContain(`href="${href}"`);
    expect(res.text).toContain(t.url);
  });

  it('serves a favicon (a 32×32 ICO), cacheable', async () => {
    const res = await request(t.url).get('/favicon.ico').buffer(true).expect(200);
    expect(res.headers['content-type']).toBe('image/x-icon');
    expect(res.headers['cache-control']).toContain('max-age=86400');
    const body = res.body as Buffer;
    expect([...body.subarray(0, 8)]).toEqual([0, 0, 1, 0, 1, 0, 32, 32]);
    expect(body.length).toBe(22 + 40 + 32 * 32 * 4 + 32 * 4);
  });
});

describe('branding (BRAND_NAME, BRAND_LOGO_URL, BRAND_PRIMARY_COLOR)', () => {
  let t: TestApp;
  beforeAll(
    async () =>
      (t = await createTestApp({
        BRAND_NAME: 'Acme <ID>',
        BRAND_LOGO_URL: 'https://cdn.example.com/acme.svg',
        BRAND_PRIMARY_COLOR: '#D6336C',
      })),
  );
  afterAll(() => t.close());

  const branded = (html: string) => {
    expect(html).toContain('· Acme &#60;ID&#62;</title>');
    expect(html).toContain('<img class="logo" src="https://cdn.example.com/acme.svg"');
    expect(html).toContain('alt="Acme &#60;ID&#62;"');
    expect(html).toContain(':root{--accent:#d6336c}');
    expect(html).not.toContain('>Latchkey<');
  };

  it('brands the home, login, consent and error pages, and allows the logo in the CSP', async () => {
    const home = await request(t.url).get('/').expect(200);
    branded(home.text);
    expect(home.headers['content-security-policy']).toContain("img-src 'self' data: https://cdn.example.com");

    const loginPage = await request(t.url).get('/login').expect(200);
    branded(loginPage.text);

    const error = await request(t.url).get('/oauth/authorize?client_id=nope&redirect_uri=x').expect(400);
    branded(error.text);

    const client = await createClient(t, { ...PUBLIC_CLIENT, clientName: 'Branded app' });
    const jar = new CookieJar();
    const authorize = await getWithJar(
      t,
      jar,
      `/oauth/authorize?response_type=code&client_id=${client.clientId}&redirect_uri=${encodeURIComponent(client.redirectUri)}&code_challenge=${pkcePair().challenge}&code_challenge_method=S256`,
    );
    const requestId = requestIdOf(authorize.headers.location);
    const signedIn = await login(t, jar, await createUser(t), requestId);
    const consent = await getWithJar(t, jar, signedIn.headers.location);
    expect(consent.text).toContain('Branded app');
    branded(consent.text);
  });

  it('draws the favicon in the primary colour', async () => {
    const res = await request(t.url).get('/favicon.ico').buffer(true).expect(200);
    const body = res.body as Buffer;
    // pixel (16, 2) from the bottom is inside the badge and outside the keyhole: BGRA of #d6336c
    const i = 22 + 40 + (2 * 32 + 16) * 4;
    expect([...body.subarray(i, i + 4)]).toEqual([0x6c, 0x33, 0xd6, 255]);
  });

  it('refuses a bad colour or logo URL at start-up, naming the variable', async () => {
    await expect(createTestApp({ BRAND_PRIMARY_COLOR: 'red' })).rejects.toThrow(
      'Invalid configuration: BRAND_PRIMARY_COLOR must be a colour like #2f5bd3 (got "red")',
    );
    await expect(createTestApp({ BRAND_LOGO_URL: 'javascript:alert(1)' })).rejects.toThrow(
      'Invalid configuration: BRAND_LOGO_URL must be an absolute http(s) URL',
    );
  });
});
