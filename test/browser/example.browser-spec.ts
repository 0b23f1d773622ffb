import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createClient, TOKEN_TEST_ENV, type TestClient } from '../factories/tokens';
import { createUser, type TestUser } from '../factories/users';
import { createTestApp, freePort, type TestApp } from '../helpers/test-app';

const SCREENSHOTS = resolve(process.cwd(), 'test/browser/screenshots');

/**
 * The example app (examples/bff: LatchkeyClientModule + LatchkeyResourceServerModule) started by its documented
 * command, `npm run example` (scripts/example.mjs), against a running Latchkey, driven in Chromium: sign in,
 * call the protected API through the BFF, sign out.
 */
describe('the example app in Chromium', () => {
  let t: TestApp;
  let client: TestClient;
  let user: TestUser;
  let example: ChildProcess;
  let exampleUrl: string;
  let output = '';
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    const port = await freePort();
    exampleUrl = `http://127.0.0.1:${port}`;
    client = await createClient(t, { redirectUris: [`${exampleUrl}/auth/callback`], scope: 'api:read' });
    user = await createUser(t, { username: 'grace', password: 'grace-hopper-1906' });
    if (!existsSync('dist/examples/bff/src/main.js'))
      execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
    example = spawn(process.execPath, ['scripts/example.mjs'], {
      env: {
        PATH: process.env.PATH,
        LATCHKEY_ISSUER: t.url,
        EXAMPLE_PORT: String(port),
        EXAMPLE_CLIENT_ID: client.clientId,
        EXAMPLE_CLIENT_SECRET: client.clientSecret!,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    example.stdout!.on('data', (d) => (output += String(d)));
    example.stderr!.on('data', (d) => (output += String(d)));
    for (let i = 0; ; i++) {
      if (example.exitCode !== null) throw new Error(`the example exited: ${output}`);
      if (i > 300) throw new Error(`the example did not start: ${output}`);
      const up = await fetch(exampleUrl).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }

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
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (example && example.exitCode === null) {
      await new Promise<void>((r) => {
        example.once('exit', () => r());
        example.kill('SIGTERM');
      });
    }
    await t?.close();
  });

  it('signs in through Latchkey and calls the protected API through the BFF, then signs out', async () => {
    await page.goto(exampleUrl);
    await expect(page.locator('#who').textContent()).resolves.toBe('Not signed in.');
    await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();

    await page.waitForURL(`${t.url}/login?*`);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/consent\?request=/);
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${exampleUrl}/`);
    await expect(page.locator('#who').textContent()).resolves.toContain(`Signed in as ${user.id}`);
    // the session cookie is HttpOnly: the page's script cannot read it, and no token is in the page
    await expect(page.evaluate(() => (globalThis as any).document.cookie)).resolves.toBe('');
    const cookies = await context.cookies(exampleUrl);
    expect(cookies.find((c) => c.name === 'latchkey_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
    });

    await page.getByRole('button', { name: 'Call the API' }).click();
    await page.locator('#result', { hasText: 'INV-1001' }).waitFor();
    const result = await page.locator('#result').textContent();
    expect(result).toMatch(/^200 /);
    expect(result).toContain(`"subject": "${user.id}"`);
    await page.screenshot({ path: join(SCREENSHOTS, 'example-signed-in.png'), fullPage: true });

    // the API itself refuses a browser without a token
    const direct = await page.goto(`${exampleUrl}/api/invoices`);
    expect(direct?.status()).toBe(401);

    await page.goto(exampleUrl);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${t.url}/oauth/logout`));
    await page.goto(exampleUrl);
    await expect(page.locator('#who').textContent()).resolves.toBe('Not signed in.');
  });
});
