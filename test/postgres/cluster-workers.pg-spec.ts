import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { AppProcess, startAppProcess } from '../helpers/app-process';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';
import { freePort, TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET } from '../helpers/test-app';

jest.setTimeout(90_000);

/** The pids of a process's children (Linux /proc). */
function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …" — comm may contain spaces, so split after the last ')'
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children.sort();
}

/** One request on a connection of its own (node:cluster hands each new connection to the next worker). */
function getOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
}

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Issue 7 §3: CLUSTER_WORKERS=N runs N worker processes of the built server on one port (node:cluster); all state
 * is in PostgreSQL, so any worker serves any request. A worker that dies is replaced; SIGTERM stops them all.
 */
describe('CLUSTER_WORKERS (node:cluster)', () => {
  let db: TestDatabase;
  let server: AppProcess;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startAppProcess({
      DATABASE_URL: db.url,
      DATA_DIR: db.dataDir,
      CLUSTER_WORKERS: '2',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json', // the request log is read back line by line (text is the development default)
    });
  });
  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  const requestLogPids = () =>
    new Set(
      server
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"request completed"') && line.includes('"url":"/oauth/jwks"'))
        .map((line) => (JSON.parse(line) as { pid: number }).pid),
    );

  it('runs two workers that both serve requests', async () => {
    const workers = await waitFor('two workers', () => {
      const pids = childPids(server.pid);
      return pids.length === 2 ? pids : undefined;
    });
    // /health/ready answered once one worker listened; until the other listens too (a slow start under load),
    // the primary hands every connection to the first: keep asking until both have served
    for (let i = 0; i < 200 && requestLogPids().size < 2; i++) {
      expect(await getOnNewConnection(`${server.url}/oauth/jwks`)).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect([...requestLogPids()].sort()).toEqual(workers);
  });

  it('replaces a worker that dies, and keeps serving', async () => {
    const [victim, survivor] = childPids(server.pid);
    process.kill(victim, 'SIGKILL');
    const replaced = await waitFor('a replacement worker', () => {
      const pids = childPids(server.pid);
      return pids.length === 2 && !pids.includes(victim) ? pids : undefined;
    });
    expect(replaced).toContain(survivor);
    const [replacement] = replaced.filter((pid) => pid !== survivor);
    // until the replacement listens, the primary hands every connection to the survivor: no request fails
    for (let i = 0; i < 100 && !requestLogPids().has(replacement); i++) {
      expect(await getOnNewConnection(`${server.url}/oauth/jwks`)).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(requestLogPids().has(replacement)).toBe(true);
  });

  it('stops every worker on SIGTERM', async () => {
    const workers = childPids(server.pid);
    await server.close();
    const alive = workers.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    expect(alive).toEqual([]);
  });

  it('refuses CLUSTER_WORKERS > 1 on PGlite at start-up', async () => {
    const child = spawn(process.execPath, [join(process.cwd(), 'dist/src/main.js')], {
      env: {
        PATH: process.env.PATH,
        PORT: String(await freePort()),
        CLUSTER_WORKERS: '2',
        DATA_DIR: db.dataDir,
        KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
        SESSION_SECRET: TEST_SESSION_SECRET,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/CLUSTER_WORKERS > 1 needs DATABASE_URL=postgres/);
  });
});
