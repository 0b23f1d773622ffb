import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppProcess } from '../helpers/app-process';

/**
 * What `npm start` prints (the built server as a process): in development a banner that says where things are and
 * what to do next, the generated-secrets warning only on the start that generated them; JSON lines when asked
 * (LOG_FORMAT=json, the production default) without Nest's route-mapping lines.
 */
jest.setTimeout(120_000);

describe('start-up output', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-startup-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const noSecrets = {
    KEY_ENCRYPTION_KEY: '',
    SESSION_SECRET: '',
    DATA_DIR: dataDir,
    DATABASE_URL: 'pglite://memory',
  };

  it('development: a banner with issuer, database, data dir, three next commands and /docs; secrets warning once', async () => {
    const first = await startAppProcess({ ...noSecrets, LOG_LEVEL: 'info' });
    await first.close();
    const out = first.stdout();
    expect(out).toContain(`Issuer    ${first.url}`);
    expect(out).toContain('Database  PGlite (embedded) in memory');
    expect(out).toContain(`Data dir  ${dataDir} (development secrets in secrets.json`);
    expect(out).toContain(`API docs  ${first.url}/docs`);
    const next = out.split('Next, in another terminal:\n')[1].trim().split('\n');
    expect(next).toHaveLength(3);
    expect(next[0]).toMatch(/npm run cli -- client:create --name admin/);
    expect(next[1]).toMatch(/npm run cli -- user:create --username ada --password-stdin/);
    expect(next[2]).toMatch(/bash scripts\/tour\.sh/);
    expect(next.every((l) => l.includes(`PORT=${new URL(first.url).port} `))).toBe(true);
    expect(out).toMatch(/warn .*generated development values into/);
    expect(out).not.toContain('Mapped {');
    expect(out).not.toContain('dependencies initialized');
    expect(out).not.toMatch(/^\{/m); // no JSON lines in development

    const second = await startAppProcess({ ...noSecrets, LOG_LEVEL: 'info' });
    await second.close();
    expect(second.stdout()).toContain('ready in');
    expect(second.stdout()).not.toContain('generated development values');
  });

  it('LOG_FORMAT=json: every line is JSON, one ready line, no route mapping at info', async () => {
    const app = await startAppProcess({
      DATABASE_URL: 'pglite://memory',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    });
    await fetch(`${app.url}/`);
    await app.close();
    const lines = app.stdout().trim().split('\n');
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = entries.filter(
      (e) => e.context === 'Bootstrap' && String(e.msg).startsWith('Latchkey ready'),
    );
    expect(ready).toEqual([
      expect.objectContaining({ issuer: app.url, database: 'PGlite (embedded) in memory: nothing is kept' }),
    ]);
    expect(
      entries.filter((e) =>
        ['RouterExplorer', 'RoutesResolver', 'InstanceLoader'].includes(e.context as string),
      ),
    ).toEqual([]);
    expect(entries.some((e) => e.context === 'HTTP' && e.url === '/' && e.statusCode === 200)).toBe(true);
    expect(lines.length).toBeLessThan(15);
  });
});
