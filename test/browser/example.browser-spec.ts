import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startAppProcess, type AppProcess } from '../helpers/app-process';
import { freePort, TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET } from '../helpers/test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

const SCREENSHOTS = resolve(process.cwd(), 'test/browser/screenshots');

/**
 * The fresh-clone path of the docs, in Chromium: Latchkey started as `npm start` does (the built server), a user
 * made with the CLI, and the example app (examples/bff: LatchkeyClientModule + LatchkeyResourceServerModule)
 * started by its documented command `npm run example`, which registers its client through the CLI. Then: sign
 * in, call the protected API through the BFF, sign out.
 */
describe('the example app in Chromium', () => {
  let database: TestDatabase;
  let latchkey: AppProcess;
  const user = { username: 'grace', password: 'grace-hopper-1906' };
  let example: ChildProcess;
  let exampleUrl: string;
  let output = '';
  let profile: string;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    // Latchkey as `npm start` runs it (the built server, a separate process), on PGlite or PostgreSQL
    database = await createTestDatabase();
    // on PGlite, as on a fresh clone: no DATABASE_URL, the embedded database under DATA_DIR
    const env = {
      DATA_DIR: database.dataDir,
      ...(database.kind === 'postgres' ? { DATABASE_URL: database.url } : {}),
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      SESSION_SECRET: TEST_SESSION_SECRET,
    };
    latchkey = await startAppProcess({ ...env, LOG_LEVEL: 'warn' }, { readyTimeoutMs: 120_000 });
    const cliEnv = { PATH: process.env.PATH, ISSUER: latchkey.url, LOG_LEVEL: 'warn', ...env };
    // a user, created with the CLI as the docs say
    execFileSync(
      process.execPath,
      ['dist/src/cli.js', 'user:create', '--username', user.username, '--password-stdin'],
      {
        env: cliEnv,
        input: `${user.password}\n`,
        stdio: ['pipe', 'ignore', 'inherit'],
      },
    );
    const port = await freePort();
    exampleUrl = `http://127.0.0.1:${port}`;
    if (!existsSync('dist/examples/bff/src/main.js'))
      execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
    // the documented command: registers its client through the CLI, then starts the example
    example = spawn('npm', ['run', 'example'], {
      env: { ...cliEnv, LATCHKEY_ISSUER: latchkey.url, EXAMPLE_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: npm, the script and the app are stopped together
    });
    example.stdout!.on('data', (d) => (output += String(d)));
    example.stderr!.on('data', (d) => (output += String(d)));
    for (let i = 0; ; i++) {
      if (example.exitCode !== null) throw new Error(`the example exited: ${output}`);
      if (i > 1200) throw new Error(`the example did not start: ${output}`);
      const up = await fetch(exampleUrl).then(
        (r) => r.ok,
        () => false,
      );
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toContain('registering the example client at Latchkey');

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
  }, 300_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    if (example && example.exitCode === null) {
      await new Promise<void>((r) => {
        example.once('exit', () => r());
        process.kill(-example.pid!, 'SIGTERM');
      });
    }
    await latchkey?.close();
    await database?.drop();
  });

  it('signs in through Latchkey and calls the protected API through the BFF, then signs out', async () => {
    await page.goto(exampleUrl);
    await expect(page.locator('#who').textContent()).resolves.toBe('Not signed in.');
    await page.getByRole('link', { name: 'Sign in with Latchkey' }).click();

    await page.waitForURL(`${latchkey.url}/login?*`);
    await page.getByLabel('Username').fill(user.username);
    await page.getByLabel('Password').fill(user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/consent\?request=/);
    await page.getByRole('button', { name: 'Allow' }).click();

    await page.waitForURL(`${exampleUrl}/`);
    const who = await page.locator('#who').textContent();
    expect(who).toMatch(/^Signed in as [0-9a-f-]{36} \(scope api:read\)$/);
    const subject = /[0-9a-f-]{36}/.exec(who!)![0];
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
    expect(result).toContain(`"subject": "${subject}"`);
    await page.screenshot({ path: join(SCREENSHOTS, 'example-signed-in.png'), fullPage: true });

    // the API itself refuses a browser without a token
    const direct = await page.goto(`${exampleUrl}/api/invoices`);
    expect(direct?.status()).toBe(401);

    await page.goto(exampleUrl);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.href.startsWith(`${latchkey.url}/oauth/logout`));
    await page.goto(exampleUrl);
    await expect(page.locator('#who').textContent()).resolves.toBe('Not signed in.');
  }, 120_000);
});
