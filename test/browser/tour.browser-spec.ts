import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startAppProcess, type AppProcess } from '../helpers/app-process';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';
import { freePort, TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET } from '../helpers/test-app';

jest.setTimeout(240_000);

/**
 * docs/getting-started.md's tour as a user runs it: `bash scripts/tour.sh` against the built server (a process,
 * `npm start`), with Chromium as the person at the browser: sign in and allow at the printed URL, then open the
 * security report in the browser through the audit console.
 */
describe('the tour (scripts/tour.sh) with Chromium at the browser step', () => {
  let db: TestDatabase;
  let app: AppProcess;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let tour: ChildProcess;
  let output = '';

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startAppProcess({ DATABASE_URL: db.url, DATA_DIR: db.dataDir });
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
      viewport: { width: 1100, height: 800 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    if (tour && tour.exitCode === null) tour.kill('SIGTERM');
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await app?.close();
    await db?.drop();
  });

  const waitForLine = async (prefix: string): Promise<string> => {
    for (let i = 0; i < 1800; i++) {
      const line = output.split('\n').find((l) => l.startsWith(prefix));
      if (line) return line.slice(prefix.length).trim();
      if (tour.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the tour did not print "${prefix}":\n${output}`);
  };

  it('reaches a token, a refresh, introspection, revocation and the security report in the browser', async () => {
    const port = new URL(app.url).port;
    tour = spawn('bash', ['scripts/tour.sh'], {
      env: {
        PATH: process.env.PATH,
        PORT: port,
        ISSUER: app.url,
        DATABASE_URL: db.url,
        DATA_DIR: db.dataDir,
        KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
        SESSION_SECRET: TEST_SESSION_SECRET,
        CALLBACK_PORT: String(await freePort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    tour.stdout!.on('data', (d) => (output += String(d)));
    tour.stderr!.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((r) => tour.on('exit', r));

    // step 3: the person at the browser
    await page.goto((await waitForLine('Open in a browser:')).split(' ')[0]);
    await page.getByLabel('Username').fill('ada');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/consent\?request=/);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/\/callback\?code=/);
    await expect(page.locator('h1').textContent()).resolves.toContain('Demo app: signed in');

    // step 5: the report in the browser, through the audit console (signed in already: consent once)
    await page.goto((await waitForLine('In a browser:')).split(' ')[0]);
    await page.waitForURL(/\/consent\?request=|\/audit\/console\/report/);
    if (page.url().includes('/consent')) {
      await expect(page.locator('h1').textContent()).resolves.toContain('audit console');
      await page.getByRole('button', { name: 'Allow' }).click();
    }
    await page.waitForURL(/\/audit\/console\/report/);
    await expect(page.locator('h1').first().textContent()).resolves.toBe('Security report');
    await page.getByRole('link', { name: 'Events' }).click();
    await page.waitForURL(/\/audit\/console\/events/);
    await expect(page.locator('table tbody tr').count()).resolves.toBeGreaterThan(5);

    expect(await exited).toBe(0);
    expect(output).toContain('code received (state and iss checked)');
    expect(output).toMatch(/"active":true/);
    // OpenID Connect: an id_token with the tokens, and userinfo names the user who signed in
    expect(output).toMatch(/id_token eyJ/);
    expect(output).toMatch(/"sub":"[0-9a-f-]{36}"/);
    expect(output).toContain('"preferred_username":"ada"');
    expect(output).toContain('revoked: false (the grant is gone)');
    expect(output).toMatch(/report: \d+ requests, \d+ failed, \d+ findings/);
  });
});
