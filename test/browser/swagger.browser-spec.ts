import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { ADMIN_SCOPES } from '../factories/clients';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * /docs in Chromium with the production security headers: Swagger UI loads under the CSP, its Authorize button
 * gets a token with the client_credentials flow from this server's token endpoint, and "Try it out" on
 * GET /admin/clients then answers 200.
 */
describe('Swagger UI at /docs in Chromium', () => {
  let t: TestApp;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    t = await createTestApp();
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
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await t.close();
  });

  it('authorizes with client_credentials and calls the admin API', async () => {
    const admin = await t.get(CliOperations).execute('client:create', {
      name: 'swagger admin',
      grantTypes: ['client_credentials'],
      scope: ADMIN_SCOPES,
      redirectUris: [],
    });
    const violations: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${t.url}/docs`);
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.dialog-ux');
    const oauth = dialog.locator('.auth-container').filter({ hasText: 'client_credentials' });
    await oauth.locator('input[id^="client_id_"]').fill(admin.client_id as string);
    await oauth.locator('input[id^="client_secret_"]').fill(admin.client_secret as string);
    const tokenResponse = page.waitForResponse((r) => r.url().endsWith('/oauth/token'));
    await oauth.locator('button.authorize').click();
    expect((await tokenResponse).status()).toBe(200);
    await dialog.locator('button.btn-done').first().click();

    const operation = page
      .locator('.opblock.opblock-get')
      .filter({ has: page.locator('.opblock-summary-path[data-path="/admin/clients"]') });
    await operation.locator('.opblock-summary').click(); // expanded; "Try it out" is on (tryItOutEnabled)
    const apiResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/admin/clients');
    await operation.locator('button.execute').click();
    const response = await apiResponse;
    expect(response.status()).toBe(200);
    expect(response.request().headers().authorization).toMatch(/^Bearer /);
    expect(violations).toEqual([]);
  });
});
