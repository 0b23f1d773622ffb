#!/usr/bin/env node
// `npm run test:abuse-load`: the abuse load test of issue 13 (run by .ci/run). Bounded and loopback only.
// Starts the built server (`node dist/src/main.js`) on 127.0.0.1 with the default limits, then:
//   - the attacker, from source address 127.0.0.2, sends ABUSE_REQUESTS (default 24,000) token requests as
//     fast as ABUSE_CONCURRENCY (32) connections allow: half naming random client_ids, half naming the victim
//     client's id with wrong secrets;
//   - meanwhile the victim (a legitimate confidential client), from 127.0.0.3, keeps exchanging its
//     credentials for tokens at ~10 requests/s.
// Asserts: the legitimate client never gets a 429 (every request 200); the server's RSS (read after full garbage
// collections: the server runs with --expose-gc and bench/gc-on-signal.cjs) grows < 50 MB between
// the end of the warm-up (as many requests of the same mix from 127.0.0.4, in the flood's window) and the end of the flood; request.rate_limited rows: at most one per key and window.
// Prints one JSON object with the figures (requests, refusals, RSS before/after, audit rows) on stdout.
// Database: embedded PGlite in a temporary directory; with DATABASE_URL=postgres://… a fresh database is
// created on that server and dropped afterwards.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));
const REQUESTS = Number(process.env.ABUSE_REQUESTS ?? 24_000);
const CONCURRENCY = Number(process.env.ABUSE_CONCURRENCY ?? 32);
const RSS_LIMIT_MB = 50;
const WINDOW_S = 60;
const log = (...a) => console.error('[abuse-load]', ...a);

if (REQUESTS < 20_000 && !process.env.ABUSE_ALLOW_SMALL) throw new Error('ABUSE_REQUESTS must be ≥ 20,000');
if (!existsSync(join(ROOT, 'dist/src/main.js')))
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 2, 2] });

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

// ---- the database -------------------------------------------------------------------------------------
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-abuse-'));
let databaseUrl = '';
let dropDatabase = async () => undefined;
if (process.env.DATABASE_URL?.startsWith('postgres')) {
  const pg = require('pg');
  const admin = new URL(process.env.DATABASE_URL);
  const name = `latchkey_abuse_${randomBytes(4).toString('hex')}`;
  const run = async (sql) => {
    const c = new pg.Client({ connectionString: admin.href });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(admin.href);
  url.pathname = `/${name}`;
  databaseUrl = url.href;
  dropDatabase = () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

// ---- the server ---------------------------------------------------------------------------------------
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const env = {
  PATH: process.env.PATH,
  PORT: String(port),
  HOST: '127.0.0.1',
  ISSUER: base,
  DATA_DIR: dataDir,
  DATABASE_URL: databaseUrl,
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64url'),
  SESSION_SECRET: Buffer.alloc(32, 9).toString('base64url'),
  LOG_LEVEL: 'warn',
};
const server = spawn(
  process.execPath,
  ['--expose-gc', '-r', join(ROOT, 'bench/gc-on-signal.cjs'), join(ROOT, 'dist/src/main.js')],
  {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
let serverErr = '';
server.stderr.on('data', (d) => (serverErr += d));
const stopServer = () =>
  new Promise((res) => {
    if (server.exitCode !== null) return res();
    server.once('exit', res);
    server.kill('SIGTERM');
  });

const agents = new Map();
function http(from, method, path, { form, headers = {} } = {}) {
  let agent = agents.get(from);
  if (!agent)
    agents.set(from, (agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, localAddress: from })));
  const body = form ? new URLSearchParams(form).toString() : undefined;
  if (body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((res, rej) => {
    const req = request(`${base}${path}`, { method, headers, agent }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        res({ status: r.statusCode, json });
      });
    });
    req.on('error', rej);
    req.end(body);
  });
}
const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return Math.round(Number(m[1]) / 1024);
};
/**
 * The server's RSS after full garbage collections (SIGWINCH, bench/gc-on-signal.cjs) and a short settle: what it
 * retains, not garbage V8 has not collected yet. Also returns the V8 heap in use at that moment.
 */
async function retainedMb() {
  const seen = serverErr.length;
  server.kill('SIGWINCH');
  for (let i = 0; i < 50 && !serverErr.slice(seen).includes('gc-done'); i++)
    await new Promise((r) => setTimeout(r, 100));
  const line = /gc-done (\{[^\n]*\})/.exec(serverErr.slice(seen));
  await new Promise((r) => setTimeout(r, 500));
  return { rss: rssMb(), heapUsed: line ? JSON.parse(line[1]).heapUsed : null };
}
const cli = (...args) =>
  JSON.parse(
    execFileSync(process.execPath, [join(ROOT, 'dist/src/cli.js'), ...args, '--json'], {
      env,
      encoding: 'utf8',
    }),
  );

let failed = false;
const check = (ok, what) => {
  if (!ok) failed = true;
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

try {
  for (let i = 0; ; i++) {
    if (server.exitCode !== null) throw new Error(`server exited: ${serverErr}`);
    const ok = await fetch(`${base}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 1200) throw new Error(`server not ready: ${serverErr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const victim = cli(
    'client:create',
    '--name',
    'victim',
    '--grant-types',
    'client_credentials',
    '--scope',
    'api:read',
  );
  const auditor = cli(
    'client:create',
    '--name',
    'auditor',
    '--grant-types',
    'client_credentials',
    '--scope',
    'audit:read',
  );
  const token = async (from, id, secret) =>
    http(from, 'POST', '/oauth/token', {
      form: { grant_type: 'client_credentials' },
      headers: { authorization: basic(id, secret) },
    });

  // first a fresh rate-limit window, so that the measured flood meets exactly one allowance; then, in that
  // window, the warm-up: the flood's own mix from another address (as many requests as the flood), so that the
  // heap (V8 grows its young generation under this allocation rate and gives it back only when idle) and the
  // embedded database's buffers reach their working size before the "before" figure is read
  for (let i = 0; i < 20; i++) await token('127.0.0.3', victim.client_id, victim.client_secret);
  const windowMs = WINDOW_S * 1000;
  await new Promise((r) => setTimeout(r, Math.max(3000, windowMs - (Date.now() % windowMs) + 500)));
  let warm = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (warm < REQUESTS) {
        const i = warm++;
        await token('127.0.0.4', i % 2 ? victim.client_id : `warm-${randomUUID()}`, 'wrong');
      }
    }),
  );
  const before = await retainedMb();
  const rssBefore = before.rss;

  // the legitimate client, from its own address, at ~10 requests/s during the whole flood
  const legit = { sent: 0, statuses: {} };
  let flooding = true;
  const legitLoop = (async () => {
    while (flooding) {
      const r = await token('127.0.0.3', victim.client_id, victim.client_secret);
      legit.sent++;
      legit.statuses[r.status] = (legit.statuses[r.status] ?? 0) + 1;
      await new Promise((res) => setTimeout(res, 100));
    }
  })();

  // /health/ready latency during the flood (reported, not asserted: the machine's load decides it)
  const ready = [];
  const readyLoop = (async () => {
    while (flooding) {
      const t0 = performance.now();
      await http('127.0.0.6', 'GET', '/health/ready');
      ready.push(performance.now() - t0);
      await new Promise((res) => setTimeout(res, 200));
    }
  })();

  // the flood
  const flood = { sent: 0, statuses: {} };
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const id = i % 2 ? victim.client_id : `random-${randomUUID()}`;
        const r = await token('127.0.0.2', id, randomBytes(8).toString('hex'));
        flood.sent++;
        flood.statuses[r.status] = (flood.statuses[r.status] ?? 0) + 1;
      }
    }),
  );
  const floodSeconds = (Date.now() - started) / 1000;
  flooding = false;
  await legitLoop;
  await readyLoop;
  ready.sort((a, b) => a - b);
  const pct = (p) => Math.round(ready[Math.min(ready.length - 1, Math.floor(p * ready.length))] ?? 0);
  const after = await retainedMb();
  const rssAfter = after.rss;

  // audit rows, through the audit API (the aggregated counts are written when a window ends: wait for it)
  const auditorToken = (await token('127.0.0.5', auditor.client_id, auditor.client_secret)).json.access_token;
  const rows = [];
  let cursor;
  do {
    const q = new URLSearchParams({
      type: 'request.rate_limited',
      limit: '500',
      ...(cursor ? { cursor } : {}),
    });
    const page = await http('127.0.0.5', 'GET', `/audit/events?${q}`, {
      headers: { authorization: `Bearer ${auditorToken}` },
    });
    if (page.status !== 200) throw new Error(`audit API: ${page.status} ${JSON.stringify(page.json)}`);
    rows.push(...(page.json.data ?? page.json.events ?? page.json.items ?? []));
    cursor = page.json.next_cursor ?? page.json.nextCursor ?? undefined;
  } while (cursor);
  const keyOf = (r) => {
    const d = r.details ?? {};
    const window = Math.floor(new Date(r.occurred_at ?? r.occurredAt).getTime() / (WINDOW_S * 1000));
    return `${d.limit}|${d.limit === 'client' ? (r.client_id ?? r.clientId) : r.ip}|${window}`;
  };
  const perKey = new Map();
  for (const r of rows) perKey.set(keyOf(r), (perKey.get(keyOf(r)) ?? 0) + 1);
  const maxPerKey = Math.max(0, ...perKey.values());

  const result = {
    database: databaseUrl ? 'postgresql' : 'pglite',
    flood: {
      requests: flood.sent,
      seconds: floodSeconds,
      per_second: Math.round(flood.sent / floodSeconds),
      statuses: flood.statuses,
    },
    legitimate: { requests: legit.sent, statuses: legit.statuses },
    rss_mb: { before: rssBefore, after: rssAfter, growth: rssAfter - rssBefore },
    heap_used_mb: { before: before.heapUsed, after: after.heapUsed },
    health_ready_ms: {
      samples: ready.length,
      p50: pct(0.5),
      p99: pct(0.99),
      max: Math.round(ready.at(-1) ?? 0),
    },
    audit: { rate_limited_rows: rows.length, keys: perKey.size, max_rows_per_key_and_window: maxPerKey },
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  check(flood.sent >= 20_000 || !!process.env.ABUSE_ALLOW_SMALL, `flood of ${flood.sent} requests`);
  check((flood.statuses[429] ?? 0) > 0, `the attacker was refused (${flood.statuses[429] ?? 0} × 429)`);
  check(
    legit.sent > 0 && legit.statuses[200] === legit.sent,
    `the legitimate client got 200 every time (${JSON.stringify(legit.statuses)})`,
  );
  check(rssAfter - rssBefore < RSS_LIMIT_MB, `RSS growth ${rssAfter - rssBefore} MB < ${RSS_LIMIT_MB} MB`);
  check(
    rows.length > 0 && maxPerKey <= 1,
    `at most one request.rate_limited row per key and window (${rows.length} rows)`,
  );
} catch (err) {
  failed = true;
  log(`FAIL ${err.stack ?? err}`);
} finally {
  for (const a of agents.values()) a.destroy();
  await stopServer();
  await dropDatabase().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
