import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketAnswers } from '../../src/operations/cli-socket.server';
import { dataDirLockPath } from '../../src/database/data-dir-lock';
import { CookieJar, login } from '../factories/authorize';
import { AppProcess, startAppProcess } from '../helpers/app-process';
import { TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET, type TestApp } from '../helpers/test-app';

jest.setTimeout(180_000);

/**
 * Issue 13, finding 0: a data directory has one owner. Real server processes (`node dist/src/main.js`) and the
 * real CLI (`node dist/src/cli.js`) on one embedded database directory (DATABASE_URL unset, DATA_DIR set).
 */
describe('the embedded data directory has one owner', () => {
  let dataDir: string;
  const servers: AppProcess[] = [];
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-owner-'));
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: '' });
  const start = async () => {
    const s = await startAppProcess(env(), { readyWithinMs: 90_000 });
    servers.push(s);
    return s;
  };
  const socket = () => join(dataDir, 'latchkey.sock');

  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(process.cwd(), 'dist/src/cli.js'), ...args],
        {
          env: {
            PATH: process.env.PATH,
            DATA_DIR: dataDir,
            KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
            SESSION_SECRET: TEST_SESSION_SECRET,
            LOG_LEVEL: 'warn',
          },
          timeout: 120_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async function signsIn(url: string, username: string, password: string): Promise<boolean> {
    const res = await login({ url } as TestApp, new CookieJar(), { username, password });
    return res.status === 302; // a failed sign-in answers 200 with the form and its error
  }

  it('refuses a second server on a directory a running server holds, naming its pid; the socket stays', async () => {
    const owner = await start();
    expect(statSync(socket()).mode & 0o777).toBe(0o600);
    await expect(start()).rejects.toThrow(new RegExp(`in use by process ${owner.pid}`));
    expect(await socketAnswers(socket())).toBe(true); // not replaced, not deleted
    const created = await cli([
      'user:create',
      '--username',
      'alice',
      '--password',
      'correct horse 1',
      '--json',
    ]);
    expect(created.code).toBe(0);
    expect(await signsIn(owner.url, 'alice', 'correct horse 1')).toBe(true);
  });

  it('refuses the CLI when it cannot reach the owner, naming its pid, instead of opening the files', async () => {
    const owner = servers[0];
    rmSync(socket()); // the owner runs, but its socket is gone
    const res = await cli(['user:create', '--username', 'bob', '--password', 'correct horse 2', '--json']);
    expect(res.code).not.toBe(0);
    expect(JSON.parse(res.stdout).error).toContain(`in use by process ${owner.pid}`);
    await owner.close();
    expect(existsSync(dataDirLockPath(join(dataDir, 'pglite')))).toBe(false); // released on a clean stop
  });

  it('runs the CLI on the files when no server runs, and the next server sees its work', async () => {
    const created = await cli([
      'user:create',
      '--username',
      'carol',
      '--password',
      'correct horse 3',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const server = await start();
    expect(await signsIn(server.url, 'alice', 'correct horse 1')).toBe(true);
    expect(await signsIn(server.url, 'carol', 'correct horse 3')).toBe(true);
  });

  it('takes over the lock and the socket of a server that was killed', async () => {
    const victim = servers.pop()!;
    process.kill(victim.pid, 'SIGKILL');
    await victim.close();
    expect(existsSync(socket())).toBe(true); // left behind
    expect(await socketAnswers(socket())).toBe(false);
    const next = await start();
    expect(await socketAnswers(socket())).toBe(true);
    expect(await signsIn(next.url, 'carol', 'correct horse 3')).toBe(true);
  });
});
