#!/usr/bin/env node
// `npm run bench:abuse`: the denial-of-service scenarios of issue 20, replayed against the built server on
// loopback only, with bounded counts and time (BENCH_ABUSE_SECONDS per scenario, default 15), on PGlite and —
// when DATABASE_URL points at PostgreSQL — on PostgreSQL (a database of its own, dropped afterwards).
// Attackers use source addresses 127.0.0.3…; the legitimate user, its token requests and the readiness probe
// come from 127.0.0.2 (Linux routes all of 127/8 to loopback). The server keeps its default limits (nothing is
// raised), so what the table shows is what a default installation does.
//
// Per scenario: what the attacker sent (requests, answers by status), the server's CPU (node process) and
// PostgreSQL's CPU (every postgres process on the machine: noisy on a shared box), the database's disk growth
// (PGlite: the data directory's base/, i.e. without the WAL, which is recycled: a new 16 MB WAL segment would
// swamp the figure; PostgreSQL: pg_database_size, which does not count the WAL either), and the p50/p99 latency of a legitimate login
// (GET /login + POST /login, success = 302), of a client_credentials token request and of /health/ready.
// Writes bench/out/abuse.md and prints the same table.
//
// Options (env): BENCH_ABUSE_SECONDS=15, BENCH_ABUSE_SCENARIOS="login admin pending slow reports",
//   BENCH_PGLITE=1|0, DATABASE_URL=postgres://… (adds the PostgreSQL run).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Math.min(60, Number(process.env.BENCH_ABUSE_SECONDS ?? 15));
const SCENARIOS = (process.env.BENCH_ABUSE_SCENARIOS ?? 'baseline login admin pending slow reports')
  .split(/\s+/)
  .filter(Boolean);
const PORT = 3300 + Math.floor(Math.random() * 500);
const HOST = '127.0.0.1';
const ISSUER = `http://${HOST}:${PORT}`;
const LEGIT = '127.0.0.2';
const PASSWORD = 'bench-password-1';
const REDIRECT = 'http://127.0.0.1:9999/cb';
const log = (...a) => console.error('[abuse]', ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- report -------------------------------------------------------------------------------------------
/** The results as a Markdown table (also `node bench/abuse.mjs --table results.json…` for earlier runs). */
function table(all) {
  const ms = (v) => (v === null ? '–' : v === Infinity ? 'fail' : `${Math.round(v)}`);
  const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  return [
    `Latchkey abuse bench (\`npm run bench:abuse\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} vCPU (${cpus()[0]?.model ?? '?'}), ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.versions.node}, ${SECONDS} s per scenario (slow connections: ≥ 25 s), default limits`,
    '',
    '| database | scenario | attacker sent (answers) | server CPU (per attacker request) | PostgreSQL CPU | disk growth (per 10,000 requests) | legit login p50 / p99 ms (ok/failed) | token p50 / p99 ms | /health/ready p50 / p99 ms | machine load (1 min) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...all.map(
      (r) =>
        `| ${r.label} | ${r.name} | ${r.attack.what}: ${r.attack.sent} (${Object.entries(r.attack.statuses)
          .map(([k, v]) => `${k}: ${v}`)
          .join(
            ', ',
          )}) | ${r.cpu.toFixed(1)} s${r.attack.sent ? ` (${((r.cpu * 1000) / r.attack.sent).toFixed(1)} ms)` : ''} | ${r.label === 'PostgreSQL' ? `${r.pgCpu.toFixed(1)} s` : '–'} | ${mb(r.disk)}${r.attack.sent ? ` (${mb((r.disk / r.attack.sent) * 10_000)})` : ''} | ${ms(r.legit.login_p50)} / ${ms(r.legit.login_p99)} (${r.legit.login_ok}/${r.legit.login_failed}) | ${ms(r.legit.token_p50)} / ${ms(r.legit.token_p99)} | ${ms(r.legit.ready_p50)} / ${ms(r.legit.ready_p99)} | ${r.load.toFixed(1)} |`,
    ),
  ];
}
if (process.argv.includes('--table')) {
  const rows = process.argv
    .slice(process.argv.indexOf('--table') + 1)
    .flatMap((f) => JSON.parse(readFileSync(f, 'utf8')));
  console.log(table(rows).slice(2).join('\n'));
  process.exit(0);
}

if (!process.argv.includes('--no-build'))
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

// ---- measuring ----------------------------------------------------------------------------------------
function ticksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
function postgresTicks() {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks;
}
function duBytes(dir) {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p, { throwIfNoEntry: false });
    if (!s) continue;
    total += s.isDirectory() ? duBytes(p) : s.size;
  }
  return total;
}
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

// ---- HTTP ---------------------------------------------------------------------------------------------
const agents = new Map();
function agentFor(ip, maxSockets = 8) {
  const key = `${ip}/${maxSockets}`;
  if (!agents.has(key)) agents.set(key, new Agent({ keepAlive: true, maxSockets, localAddress: ip }));
  return agents.get(key);
}
/** One request; resolves { status, headers, body, ms } (status 0 on a network error). */
function call(method, path, { ip = LEGIT, headers = {}, body, agent, timeoutMs = 30_000 } = {}) {
  const started = performance.now();
  return new Promise((resolveCall) => {
    const req = httpRequest(
      {
        host: HOST,
        port: PORT,
        method,
        path,
        agent: agent ?? agentFor(ip),
        headers: body ? { 'content-length': Buffer.byteLength(body), ...headers } : headers,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c.length < 100_000 ? c : ''));
        res.on('end', () =>
          resolveCall({
            status: res.statusCode,
            headers: res.headers,
            body: text,
            ms: performance.now() - started,
          }),
        );
        res.on('error', () =>
          resolveCall({ status: 0, headers: {}, body: '', ms: performance.now() - started }),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolveCall({ status: 0, headers: {}, body: '', ms: performance.now() - started }));
    req.end(body);
  });
}
const cookiesOf = (res) =>
  []
    .concat(res.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
const csrfOf = (html) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const form = (o) => new URLSearchParams(o).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Runs `worker` on `concurrency` loops until the deadline or `max` calls; counts answers by status. */
async function flood({ concurrency, max = Infinity, until, worker }) {
  const statuses = {};
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until && sent < max) {
        sent++;
        const status = await worker();
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return { sent, statuses };
}

// ---- the legitimate user, measured during every scenario ----------------------------------------------
function probes(ctx, until) {
  const login = [],
    loginFailed = [],
    token = [],
    ready = [];
  const loop = async (periodMs, fn) => {
    while (Date.now() < until) {
      const t0 = Date.now();
      await fn();
      await sleep(Math.max(0, periodMs - (Date.now() - t0)));
    }
  };
  const agent = new Agent({ keepAlive: false, localAddress: LEGIT });
  return Promise.all([
    loop(1000, async () => {
      const t0 = performance.now();
      const page = await call('GET', '/login', { agent });
      const res =
        page.status === 200
          ? await call('POST', '/login', {
              agent,
              headers: { ...FORM, cookie: cookiesOf(page) },
              body: form({ _csrf: csrfOf(page.body), username: 'bench-user', password: PASSWORD }),
            })
          : page;
      (res.status === 302 ? login : loginFailed).push(performance.now() - t0);
    }),
    loop(250, async () => {
      const res = await call('POST', '/oauth/token', {
        agent,
        headers: { ...FORM, authorization: ctx.basic },
        body: form({ grant_type: 'client_credentials', scope: 'api:read' }),
      });
      token.push(res.status === 200 ? res.ms : Infinity);
    }),
    loop(100, async () => {
      const res = await call('GET', '/health/ready', { agent });
      ready.push(res.status === 200 ? res.ms : Infinity);
    }),
  ]).then(() => ({ login, loginFailed, token, ready }));
}

// ---- scenarios ----------------------------------------------------------------------------------------
const attackers = (n, first = 3) => Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);

const SCENARIO = {
  /** 0. no attack: the legitimate user alone, for comparison (the machine may be busy with other work) */
  async baseline(ctx, until) {
    await sleep(Math.max(0, until - Date.now()));
    return { sent: 0, statuses: {}, what: 'nothing (the legitimate probes alone)' };
  },

  /** 1. login flood: 300 POSTs sent and abandoned at once, then five IPs sending random usernames as fast as answered */
  async login(ctx, until) {
    const ips = attackers(5);
    const pages = await Promise.all(ips.map((ip) => call('GET', '/login', { ip })));
    const post = (i, ip, extra = {}) =>
      call('POST', '/login', {
        ip,
        headers: { ...FORM, cookie: cookiesOf(pages[i]) },
        body: form({
          _csrf: csrfOf(pages[i].body),
          username: `u-${randomBytes(8).toString('hex')}`,
          password: 'guess-guess',
        }),
        ...extra,
      });
    // the abandoned burst: each on a connection of its own, closed 30 ms after sending
    const burst = Array.from({ length: 300 }, (_, k) =>
      post(k % 5, ips[k % 5], { agent: new Agent({ localAddress: ips[k % 5] }), timeoutMs: 30 }),
    );
    const [abandoned, ...runs] = await Promise.all([
      Promise.all(burst),
      ...ips.map((ip, i) => flood({ concurrency: 4, until, worker: async () => (await post(i, ip)).status })),
    ]);
    return merge(
      runs,
      `300 POSTs abandoned after 30 ms, then 5 IPs × 4 concurrent POST /login (random usernames, one CSRF token each)`,
      abandoned.length,
    );
  },

  /** 2. unauthenticated /admin flood: no token, a ~1 KB path, one IP, as fast as answered */
  async admin(ctx, until) {
    const ip = attackers(1, 20)[0];
    const run = await flood({
      concurrency: 32,
      max: 30_000,
      until,
      worker: async () =>
        (
          await call('GET', `/admin/clients/${randomBytes(500).toString('hex')}`, {
            ip,
            agent: agentFor(ip, 32),
            headers: { 'user-agent': 'x'.repeat(400) },
          })
        ).status,
    });
    return merge([run], 'GET /admin/clients/<1 KB id> without a token, 1 IP × 32 concurrent');
  },

  /** 3. pending-state flood: valid authorize requests without a session, state at the 1 KB maximum, 10 IPs */
  async pending(ctx, until) {
    const state = 's'.repeat(1024);
    const runs = await Promise.all(
      attackers(10, 30).map((ip) =>
        flood({
          concurrency: 2,
          until,
          worker: async () => {
            const q = new URLSearchParams({
              response_type: 'code',
              client_id: ctx.publicClient,
              redirect_uri: REDIRECT,
              code_challenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
              code_challenge_method: 'S256',
              state,
            });
            return (await call('GET', `/oauth/authorize?${q}`, { ip })).status;
          },
        }),
      ),
    );
    return merge(runs, '10 IPs × 2 concurrent GET /oauth/authorize (valid, no session, 1 KB state)');
  },

  /** 4. slow connections: as many connections as allowed, each sending a header line every 5 s */
  async slow(ctx, until) {
    const sockets = [];
    let opened = 0,
      refused = 0,
      closedByServer = 0;
    const target = 4000;
    const ips = attackers(4, 50);
    while (Date.now() < until && opened < target) {
      await Promise.all(
        Array.from(
          { length: 100 },
          () =>
            new Promise((done) => {
              const s = connect({ host: HOST, port: PORT, localAddress: ips[opened % ips.length] }, () => {
                s.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
                done();
              });
              opened++;
              s.on('error', () => {
                refused++;
                done();
              });
              s.on('close', () => closedByServer++);
              sockets.push(s);
            }),
        ),
      );
    }
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write('X-Slow: 1\r\n');
    }, 5000);
    await sleep(Math.max(0, until - Date.now()));
    clearInterval(drip);
    const stillOpen = sockets.filter((s) => !s.destroyed).length;
    const closed = closedByServer;
    for (const s of sockets) s.destroy();
    return {
      sent: opened,
      statuses: { 'connect errors': refused, 'closed by the server': closed, 'open at the end': stillOpen },
      what: `connections from 4 IPs, each sending a header line every 5 s`,
    };
  },

  /** 5. an auditor's heavy reads: 6 concurrent 31-day reports and 2 full CSV exports, repeated */
  async reports(ctx, until) {
    const auth = { authorization: `Bearer ${ctx.auditToken}` };
    const from = new Date(Date.now() - 31 * 86_400_000 + 60_000).toISOString();
    const ip = attackers(1, 60)[0];
    const runs = await Promise.all([
      flood({
        concurrency: 6,
        until,
        worker: async () =>
          (
            await call('GET', `/audit/reports/security?from=${from}`, {
              ip,
              agent: agentFor(ip, 8),
              headers: auth,
              timeoutMs: 120_000,
            })
          ).status,
      }),
      flood({
        concurrency: 2,
        until,
        worker: async () =>
          (
            await call('GET', '/audit/events?format=csv', {
              ip,
              agent: agentFor(ip, 8),
              headers: auth,
              timeoutMs: 120_000,
            })
          ).status,
      }),
    ]);
    return merge(
      runs,
      `6 concurrent 31-day reports + 2 concurrent full CSV exports (over ${ctx.auditRows} audit rows), 1 auditor`,
    );
  },
};

function merge(runs, what, extra = 0) {
  const statuses = {};
  let sent = extra;
  for (const r of runs) {
    sent += r.sent;
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  }
  if (extra) statuses.abandoned = extra;
  return { sent, statuses, what };
}

// ---- server -------------------------------------------------------------------------------------------
let server = null;
async function startServer(env) {
  server = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 450; i++) {
    if (
      (await call('GET', '/health/ready', { timeoutMs: 1000, agent: new Agent({ localAddress: LEGIT }) }))
        .status === 200
    )
      return server.pid;
    await sleep(200);
  }
  throw new Error('Latchkey did not become ready');
}
function stopServer() {
  if (!server) return Promise.resolve();
  const s = server;
  server = null;
  return new Promise((r) => {
    s.once('exit', r);
    s.kill('SIGTERM');
  });
}
process.on('exit', () => server?.kill('SIGKILL'));
process.on('SIGINT', () => process.exit(130));

function cli(env, args, input) {
  const out = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli.js'), ...args, '--json'], {
    env,
    encoding: 'utf8',
    input,
  });
  if (out.status !== 0) throw new Error(`cli ${args[0]} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

async function runOn(label, env, diskBytes) {
  const pid = await startServer(env);
  const pub = cli(env, [
    'client:create',
    '--name',
    'abuse-spa',
    '--auth-method',
    'none',
    '--redirect-uri',
    REDIRECT,
    '--grant-types',
    'authorization_code',
    '--scope',
    'api:read',
  ]);
  const svc = cli(env, [
    'client:create',
    '--name',
    'abuse-svc',
    '--auth-method',
    'client_secret_basic',
    '--grant-types',
    'client_credentials',
    '--scope',
    'api:read',
  ]);
  const auditor = cli(env, [
    'client:create',
    '--name',
    'abuse-auditor',
    '--auth-method',
    'client_secret_basic',
    '--grant-types',
    'client_credentials',
    '--scope',
    'audit:read',
  ]);
  cli(env, ['user:create', '--username', 'bench-user', '--password-stdin'], PASSWORD);
  const basic = (c) =>
    `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;
  const tokenRes = await call('POST', '/oauth/token', {
    agent: new Agent({ localAddress: LEGIT }),
    headers: { ...FORM, authorization: basic(auditor) },
    body: form({ grant_type: 'client_credentials', scope: 'audit:read' }),
  });
  if (tokenRes.status !== 200) throw new Error(`auditor token: ${tokenRes.status} ${tokenRes.body}`);
  const auditToken = JSON.parse(tokenRes.body).access_token;
  const ctx = { publicClient: pub.client_id, basic: basic(svc), auditToken, auditRows: 0 };
  const rows = [];
  for (const name of SCENARIOS) {
    if (name === 'reports') {
      const res = await call('GET', '/audit/reports/security', {
        agent: new Agent({ localAddress: LEGIT }),
        headers: { authorization: `Bearer ${auditToken}` },
      });
      ctx.auditRows = JSON.parse(res.body).total_requests ?? '?';
    }
    await sleep(2000); // let the previous scenario's work drain
    const disk0 = await diskBytes();
    const cpu0 = ticksOf(pid);
    const pg0 = postgresTicks();
    const t0 = Date.now();
    // the slow connections need longer than HEADERS_TIMEOUT (10 s) after they are opened to show it working
    const until = t0 + (name === 'slow' ? Math.max(SECONDS, 25) : SECONDS) * 1000;
    log(`${label}: ${name} (${SECONDS} s)`);
    const [attack, legit] = await Promise.all([SCENARIO[name](ctx, until), probes(ctx, until)]);
    const secs = (Date.now() - t0) / 1000;
    const cpu = (ticksOf(pid) - cpu0) / 100;
    const pgCpu = env.DATABASE_URL ? (postgresTicks() - pg0) / 100 : 0;
    await sleep(1500); // the audit writer's group commit
    const disk = (await diskBytes()) - disk0;
    const row = {
      label,
      name,
      secs,
      attack,
      cpu,
      pgCpu,
      disk,
      load: loadavg()[0],
      legit: {
        login_ok: legit.login.length,
        login_failed: legit.loginFailed.length,
        login_p50: pct(legit.login, 50),
        login_p99: pct([...legit.login, ...legit.loginFailed.map(() => Infinity)], 99),
        logins_ms: legit.login.map((v) => Math.round(v)),
        token_p50: pct(legit.token, 50),
        token_p99: pct(legit.token, 99),
        ready_p50: pct(legit.ready, 50),
        ready_p99: pct(legit.ready, 99),
        ready_n: legit.ready.length,
      },
    };
    rows.push(row);
    log(JSON.stringify(row));
  }
  await stopServer();
  return rows;
}

// ---- run ----------------------------------------------------------------------------------------------
const baseEnv = (extra) => ({
  PATH: process.env.PATH,
  NODE_ENV: 'production',
  PORT: String(PORT),
  HOST: '0.0.0.0', // reachable from every 127.0.0.x
  ISSUER,
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64url'),
  SESSION_SECRET: Buffer.alloc(32, 6).toString('base64url'),
  LOG_LEVEL: 'warn',
  ...extra,
});
const all = [];
if (process.env.BENCH_PGLITE !== '0') {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-abuse-'));
  try {
    all.push(
      ...(await runOn('PGlite', baseEnv({ DATA_DIR: dataDir }), async () =>
        duBytes(join(dataDir, 'pglite', 'base')),
      )),
    );
  } finally {
    await stopServer();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const pgUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : null;
if (pgUrl) {
  const db = `latchkey_abuse_${Date.now().toString(36)}`;
  execFileSync('psql', [pgUrl, '-qc', `CREATE DATABASE ${db}`]);
  const url = new URL(pgUrl);
  url.pathname = `/${db}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-abuse-'));
  const size = async () =>
    Number(
      execFileSync('psql', [pgUrl, '-tAc', `SELECT pg_database_size('${db}')`], { encoding: 'utf8' }).trim(),
    );
  try {
    all.push(...(await runOn('PostgreSQL', baseEnv({ DATABASE_URL: url.href, DATA_DIR: dataDir }), size)));
  } finally {
    await stopServer();
    execFileSync('psql', [pgUrl, '-qc', `DROP DATABASE ${db} WITH (FORCE)`]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
for (const a of agents.values()) a.destroy();

const lines = table(all);
mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
writeFileSync(join(ROOT, 'bench/out/abuse.md'), lines.join('\n') + '\n');
writeFileSync(join(ROOT, 'bench/out/abuse.json'), JSON.stringify(all, null, 2));
console.log(lines.join('\n'));
process.exit(0);
