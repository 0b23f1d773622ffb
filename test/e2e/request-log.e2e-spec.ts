import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppProcess, startAppProcess } from '../helpers/app-process';

/** The built server's stdout as JSON lines (pino). */
function logLines(app: AppProcess): Array<Record<string, unknown>> {
  return app
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function untilLogged(app: AppProcess, predicate: (line: Record<string, unknown>) => boolean) {
  for (let i = 0; i < 50 && !logLines(app).some(predicate); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('request log (the built server, LOG_LEVEL info and warn)', () => {
  const dirs: string[] = [];
  const apps: AppProcess[] = [];
  const start = async (level: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-log-'));
    dirs.push(dir);
    const app = await startAppProcess({
      LOG_LEVEL: level,
      DATA_DIR: dir,
      NODE_ENV: 'development',
      LOG_FORMAT: 'json',
    });
    apps.push(app);
    return app;
  };
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('at info: one line per request with its id, method, path (never the query), status and time; secrets never', async () => {
    const app = await start('info');
    await fetch(
      `${app.url}/oauth/authorize?client_id=nobody&state=state-secret-1&code_challenge=chal-secret-2`,
      {
        headers: { 'X-Request-Id': 'log-test-1' },
        redirect: 'manual',
      },
    );
    await fetch(`${app.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Request-Id': 'log-test-2' },
      body: 'grant_type=authorization_code&code=code-secret-3&code_verifier=verifier-secret-4&client_id=x',
    });
    await fetch(`${app.url}/health/ready`);
    await untilLogged(app, (l) => l.reqId === 'log-test-2');

    const http = logLines(app).filter((l) => l.context === 'HTTP');
    expect(http).toEqual([
      expect.objectContaining({
        level: 30,
        reqId: 'log-test-1',
        method: 'GET',
        url: '/oauth/authorize',
        statusCode: 400,
        responseTime: expect.any(Number),
        msg: 'request completed',
      }),
      expect.objectContaining({ reqId: 'log-test-2', method: 'POST', url: '/oauth/token', statusCode: 400 }),
    ]); // health probes are not logged
    for (const secret of ['state-secret-1', 'chal-secret-2', 'code-secret-3', 'verifier-secret-4'])
      expect(app.stdout()).not.toContain(secret);
  });

  it('at warn: no request lines at all', async () => {
    const app = await start('warn');
    const res = await fetch(`${app.url}/.well-known/oauth-authorization-server`, {
      headers: { 'X-Request-Id': 'log-test-3' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('log-test-3');
    await new Promise((r) => setTimeout(r, 200));
    expect(logLines(app).filter((l) => l.context === 'HTTP')).toEqual([]);
    expect(app.stdout()).not.toContain('log-test-3');
  });
});
