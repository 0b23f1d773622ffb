import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createUser, type TestUser } from '../factories/authorize';
import { sql } from '../../src/database/sql';
import { pkcePair } from '../factories/pkce';
import { createTestApp, freePort, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, type TestClient, createClient } from '../factories/clients';

const SCREENSHOTS = resolve(process.cwd(), 'test/browser/screenshots');
const DOCS_SCREENSHOTS = resolve(process.cwd(), 'docs/screenshots');

/**
 * The authorization code flow in a real browser (headless Debian Chromium through playwright-core), against
 * the production app configuration (helmet CSP without form-action): sign in, consent, land on the
 * client's redirect URI with code, state and iss; then again in the same browser session without any
 * page. Screenshots of the login, consent and error pages go to test/browser/screenshots (and to
 * docs/screenshots for the README).
 */
describe('authorization in Chromium', () => {
  let t: TestApp;
  let callbackServer: Server;
  let callbackPort: number;
  const callbacks: URL[] = [];
  let client: TestClient;
  let user: TestUser;
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    t = await createTestApp();
    callbackPort = await freePort();
    callbackServer = createServer((req, res) => {
      callbacks.push(new URL(req.url ?? '/', `http://127.0.0.1:${callbackPort}`));
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Example App</title><h1>Example App received the response</h1>');
    });
    await new Promise<void>((r) => callbackServer.listen(callbackPort, '127.0.0.1', r));
    client = await createClient(t, {
      ...PUBLIC_CLIENT,
      clientName: 'Example App',
      redirectUris: [`http://127.0.0.1:${callbackPort}/callback`],
      scope: 'api:read api:write',
    });
    user = await createUser(t, { username: 'ada', password: 'ada-lovelace-1815' });

    mkdirSync(SCREENSHOTS, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), 'latchkey-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 720, height: 640 },
      locale: 'en-US',
      colorScheme: 'light',
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await new Promise((r) => callbackServer.close(r));
    await t.close();
  });

  const authorizeUrl = (state: string, extra: Record<string, string> = {}) => {
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope: 'api:read api:write',
      code_challenge: pkcePair().challenge,
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    return `${t.url}/oauth/authorize?${q}`;
  };

  async function screenshot(name: string) {
    const path = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  it('signs in, consents and lands on the redirect URI with code, state and iss', async () => {
    await page.goto(authorizeUrl('browser-state-1'));
    expect(new URL(page.url()).pathname).toBe('/login');
    // autofocus: the username field has the focus
    await expect(page.evaluate(() => (globalThis as any).document.activeElement?.id)).resolves.toBe(
      'username',
    );

    // a wrong password first: the generic message
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Incorrect username or password.');
    await screenshot('login-failed');

    await page.goto(authorizeUrl('browser-state-1'));
    await screenshot('login');
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(/\/consent\?request=/);
    await expect(page.locator('h1').textContent()).resolves.toContain('Example App');
    await expect(page.locator('code.scope').allTextContents()).resolves.toEqual(['api:read', 'api:write']);
    await screenshot('consent');

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`http://127.0.0.1:${callbackPort}/callback?*`);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(landed.searchParams.get('state')).toBe('browser-state-1');
    expect(landed.searchParams.get('iss')).toBe(t.url);
    const received = callbacks.filter((u) => u.pathname === '/callback').at(-1);
    expect(received?.searchParams.get('code')).toBe(landed.searchParams.get('code'));
  });

  it('authorizes again in the same browser session without login or consent page', async () => {
    const seen: string[] = [];
    const onResponse = (res: { url(): string; status(): number }) =>
      seen.push(`${res.status()} ${res.url()}`);
    page.on('response', onResponse);
    await page.goto(authorizeUrl('browser-state-2'));
    page.off('response', onResponse);
    const landed = new URL(page.url());
    expect(`${landed.origin}${landed.pathname}`).toBe(client.redirectUri);
    expect(landed.searchParams.get('state')).toBe('browser-state-2');
    expect(landed.searchParams.get('iss')).toBe(t.url);
    expect(landed.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(seen.some((s) => /\/login|\/consent/.test(s))).toBe(false);
  });

  it('sends a denial back as access_denied', async () => {
    const other = await createClient(t, {
      ...PUBLIC_CLIENT,
      clientName: 'Another App',
      redirectUris: [client.redirectUri],
      scope: 'api:read',
    });
    await page.goto(authorizeUrl('deny-state', { client_id: other.clientId, scope: 'api:read' }));
    await page.waitForURL(/\/consent\?request=/);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`http://127.0.0.1:${callbackPort}/callback?*`);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('error')).toBe('access_denied');
    expect(landed.searchParams.get('state')).toBe('deny-state');
    expect(landed.searchParams.get('iss')).toBe(t.url);
  });

  it('shows an error page, not a redirect, for an unregistered redirect URI', async () => {
    const response = await page.goto(authorizeUrl('x', { redirect_uri: 'https://attacker.example/steal' }));
    expect(response?.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(t.url);
    await expect(page.locator('h1').textContent()).resolves.toBe('This sign-in link cannot be used');
    await screenshot('error');
  });

  it('OpenID Connect: consents to openid/profile/email in plain words, then logs out with a redirect', async () => {
    const rp = await createClient(t, {
      ...PUBLIC_CLIENT,
      clientName: 'Sign-in Demo',
      redirectUris: [`http://127.0.0.1:${callbackPort}/oidc-callback`],
      scope: 'openid profile email',
    });
    await sql(t.dataSource, `UPDATE clients SET post_logout_redirect_uris = $2 WHERE client_id = $1`, [
      rp.clientId,
      [`http://127.0.0.1:${callbackPort}/signed-out`],
    ]);
    const { verifier, challenge } = pkcePair();
    const q = new URLSearchParams({
      response_type: 'code',
      client_id: rp.clientId,
      redirect_uri: rp.redirectUri,
      scope: 'openid profile email',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'oidc-state',
      nonce: 'oidc-nonce',
    });
    await page.goto(`${t.url}/oauth/authorize?${q}`);
    await page.waitForURL(/\/consent\?request=/);
    await expect(page.locator('code.scope').allTextContents()).resolves.toEqual([
      'openid',
      'profile',
      'email',
    ]);
    const descriptions = await page.locator('.scope-description').allTextContents();
    expect(descriptions[0]).toContain('Know who you are');
    expect(descriptions[2]).toContain('See your email address');
    await screenshot('consent-oidc');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(`http://127.0.0.1:${callbackPort}/oidc-callback?*`);
    const code = new URL(page.url()).searchParams.get('code')!;
    const token = await fetch(`${t.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: rp.redirectUri,
        code_verifier: verifier,
        client_id: rp.clientId,
      }),
    }).then((r) => r.json() as Promise<{ id_token: string }>);
    const idClaims = JSON.parse(Buffer.from(token.id_token.split('.')[1], 'base64url').toString());
    expect(idClaims).toMatchObject({ aud: rp.clientId, nonce: 'oidc-nonce', preferred_username: 'ada' });

    // RP-initiated logout with the id_token as hint: straight back to the registered URI, signed out
    const logout = new URLSearchParams({
      id_token_hint: token.id_token,
      post_logout_redirect_uri: `http://127.0.0.1:${callbackPort}/signed-out`,
      state: 'bye',
    });
    await page.goto(`${t.url}/oauth/logout?${logout}`);
    await page.waitForURL(`http://127.0.0.1:${callbackPort}/signed-out?*`);
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye');
    await page.goto(`${t.url}/login`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign in');
    expect((await context.cookies(t.url)).map((c) => c.name)).not.toContain('lk_session');

    // without a hint the user is asked first (a third-party link signs no one out by itself)
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.goto(`${t.url}/oauth/logout?client_id=${rp.clientId}`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Sign out of Latchkey?');
    await screenshot('logout-confirm');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('You are signed out');
  });

  afterAll(() => {
    mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
    for (const name of ['login', 'consent', 'error'])
      copyFileSync(join(SCREENSHOTS, `${name}.png`), join(DOCS_SCREENSHOTS, `${name}.png`));
  });
});
