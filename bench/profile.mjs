#!/usr/bin/env node
// `npm run bench:profile`: where one mode's CPU goes, on both sides of the wire.
// Starts Latchkey (the build in dist/) with `node --cpu-prof` on PostgreSQL (DATABASE_URL, or a throwaway
// PostgreSQL 15 cluster with pg_stat_statements loaded), registers the bench client and user, runs the
// ../shared/bench harness in one mode, stops the server and prints:
//   - the server's CPU profile by category (Node itself, Latchkey, framework, node-postgres, crypto, GC, …) and its
//     top functions by self time, as µs per operation;
//   - PostgreSQL's statements (pg_stat_statements) as calls and execution µs per operation.
// With BENCH_PROFILE_PEER=1 it profiles the peer (oidc-provider, ../shared/bench/peer-oidc-provider.mjs) the same way.
// Options (env): BENCH_MODE=flow|openid|dpop-flow|refresh|introspect (default flow), BENCH_USERS=16,
//   BENCH_DURATION=15, BENCH_TOP=25, BENCH_PROFILE_DIR (keeps the .cpuprofile files there), BENCH_PORT=3220,
//   BENCH_BUILD (another checkout's build to run, for A/B), DATABASE_URL, BENCH_HARNESS_DIR, PEER_DIR, BENCH_SQL (run after the migrations: an experiment on the schema), BENCH_PIN=1 (the server alone on CPU 0, PostgreSQL and the harness on
//   the other cores: the profile's samples are then the server's own time, not time it waited for a core).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUILD = resolve(process.env.BENCH_BUILD ?? ROOT); // a checkout whose dist/ to run (A/B of two builds)
const HARNESS = resolve(process.env.BENCH_HARNESS_DIR ?? join(ROOT, '..', 'shared', 'bench'));
const MODE = process.env.BENCH_MODE ?? 'flow';
const USERS = process.env.BENCH_USERS ?? '16';
const DURATION = process.env.BENCH_DURATION ?? '15';
const TOP = Number(process.env.BENCH_TOP ?? 25);
const PEER = process.env.BENCH_PROFILE_PEER === '1';
const PIN = process.env.BENCH_PIN === '1';
const OTHER_CPUS = `1-${Math.max(1, cpus().length - 1)}`;
const PORT = Number(process.env.BENCH_PORT ?? 3220);
const ISSUER = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'bench-password-1';
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'latchkey-profile-'));
const MODES = {
  flow: { args: ['--mode', 'flow'], scope: 'api:read' },
  openid: { args: ['--mode', 'flow'], scope: 'openid profile api:read' },
  'dpop-flow': { args: ['--mode', 'flow', '--dpop', '1', '--par', '1'], scope: 'api:read' },
  refresh: { args: ['--mode', 'refresh'], scope: 'api:read' },
  introspect: { args: ['--mode', 'introspect'], scope: 'api:read' },
};
const mode = MODES[MODE];
if (!mode) throw new Error(`unknown BENCH_MODE ${MODE}`);
const log = (...a) => console.error('[profile]', ...a);
mkdirSync(PROFILE_DIR, { recursive: true });

/**
 * Runs the harness; resolves to its result line and its measured window on the profiles' clock (CLOCK_MONOTONIC, µs:
 * the harness measures `duration` seconds after a 2 s warm-up that follows its "mode=" line). `atMeasure` runs when
 * the measured window opens.
 */
function harness(issuer, extra, atMeasure = () => {}) {
  const bin = PIN ? ['taskset', '-c', OTHER_CPUS, process.execPath] : [process.execPath];
  const child = spawn(bin[0], [...bin.slice(1), join(HARNESS, 'flow-bench.mjs'), '--issuer', issuer, ...mode.args,
    '--scope', mode.scope, '--concurrency', USERS, '--duration', DURATION, '--warmup', '2', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let from;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    process.stderr.write(d);
    if (from === undefined && /mode=/.test(String(d))) {
      from = nowUs() + 2e6;
      setTimeout(atMeasure, 2000);
    }
  });
  return new Promise((done, fail) => child.on('exit', () => {
    try {
      done({ r: JSON.parse(stdout.trim().split('\n').pop()), window: { from, to: from + Number(DURATION) * 1e6 } });
    } catch (e) {
      fail(e);
    }
  }));
}

async function waitFor(url) {
  for (let i = 0; i < 150; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer`);
}

function stop(child) {
  return new Promise((r) => {
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}

// ---- what a profile's samples are spent on ------------------------------------------------------------------
const CATEGORIES = [
  ['GC', (f) => f.functionName === '(garbage collector)'],
  ['crypto', (f) => /node:internal\/crypto|\/jose\//.test(f.url) || /^(sign|verify|digest|update|final|randomFillSync|timingSafeEqual|createHash|createHmac|generateKeyPair|subtle)/i.test(f.functionName) && !f.url],
  ['node-postgres', (f) => /node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|postgres-[a-z]+)\//.test(f.url)],
  ['TypeORM', (f) => /node_modules\/typeorm\//.test(f.url)],
  ['framework', (f) => /node_modules\/(@nestjs|fastify|@fastify|find-my-way|avvio|light-my-request|passport[^/]*|rxjs|reflect-metadata|class-validator|class-transformer|secure-json-parse|fast-json-stringify|fast-querystring|ret|safe-regex2|toad-cache|abstract-logging|process-warning|eventemitter2|@nestjs\/event-emitter)\//.test(f.url)],
  ['logging and metrics', (f) => /node_modules\/(pino|prom-client|sonic-boom|nestjs-pino|thread-stream)\//.test(f.url)],
  ['Latchkey', (f) => /\/dist\/src\/|\/dist\/libs\//.test(f.url)],
  ['the peer (oidc-provider, koa, jose)', (f) => /node_modules\/(oidc-provider|koa[^/]*|@koa|jose|quick-lru|nanoid|oidc-token-hash|eta)\//.test(f.url)],
  ['other dependencies', (f) => /node_modules\//.test(f.url)],
  ['Node itself (HTTP, streams, promises, timers)', (f) => f.url.startsWith('node:') || f.url === '' && !/^\((program|idle|root)\)$/.test(f.functionName)],
];
const category = (frame) => CATEGORIES.find(([, test]) => test(frame))?.[0] ?? 'other';

/**
 * The profile's samples inside the harness's measured window (start-up and logins left out), by category and by
 * function. Sampled time also counts moments the thread was runnable but waiting for a core, so the shares are taken
 * from the samples and the absolute figures from the CPU time the harness measured (/proc) over the same window.
 */
function summarise(file, result, window) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t >= window.from && t <= window.to) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  }
  const cats = new Map();
  const fns = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const f = byId.get(id).callFrame;
    if (/^\((idle|program|root)\)$/.test(f.functionName)) continue;
    busy += us;
    const c = category(f);
    cats.set(c, (cats.get(c) ?? 0) + us);
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const cpuPerOp = (result.cpu_pct_of_one_core.server * 10_000) / result.ops_per_s; // µs
  const per = (us) => ((us / busy) * cpuPerOp).toFixed(1);
  const share = (us) => `${((100 * us) / busy).toFixed(1)} %`;
  console.log(`\nserver CPU per operation (harness, /proc): ${cpuPerOp.toFixed(0)} µs; sampled while busy in the window: ${(busy / 1000).toFixed(0)} ms`);
  console.log('\n| category | µs per op | share |\n|---|---|---|');
  for (const [c, us] of [...cats].sort((a, b) => b[1] - a[1])) console.log(`| ${c} | ${per(us)} | ${share(us)} |`);
  console.log(`\n| top functions by self time | µs per op | share |\n|---|---|---|`);
  for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| \`${k}\` | ${per(us)} | ${share(us)} |`);
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
/** CPU ticks (1/100 s) of one PostgreSQL server: its postmaster (pid) and the processes it forked. */
function postgresTicks(postmaster) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // the postmaster's own time and that of its children that have exited (cutime, cstime), and the live children
      if (Number(pid) === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks;
}

const newestProfile = () => {
  const files = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(PROFILE_DIR, f));
  return files.sort((a, b) => (a < b ? 1 : -1))[0];
};

// ---- the peer -----------------------------------------------------------------------------------------------
if (PEER) {
  const peerDir = process.env.PEER_DIR ?? join(tmpdir(), 'latchkey-peer');
  if (!existsSync(join(peerDir, 'node_modules', 'oidc-provider'))) throw new Error(`no peer in ${peerDir}: run ${HARNESS}/run-peer.sh once`);
  execFileSync('cp', [join(HARNESS, 'peer-oidc-provider.mjs'), join(peerDir, 'server.mjs')]);
  const peer = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--import', 'data:text/javascript,process.on("SIGTERM",()=>process.exit(0))', join(peerDir, 'server.mjs')], { stdio: 'ignore' });
  await waitFor('http://127.0.0.1:3100/.well-known/openid-configuration');
  const { r, window } = await harness('http://127.0.0.1:3100', ['--login', join(HARNESS, 'login-oidc-provider.mjs'), '--server-pid', String(peer.pid),
    '--introspect-client-id', 'bench-rs', '--introspect-client-secret', 'bench-rs-secret',
    ...(MODE === 'introspect' ? ['--introspect-token', 'refresh'] : [])]);
  await stop(peer);
  console.log(`peer ${MODE}, ${USERS} users: ${r.ops_per_s} ops/s, server ${r.cpu_pct_of_one_core?.server} % of a core`);
  summarise(newestProfile(), r, window);
  process.exit(0);
}

// ---- Latchkey on PostgreSQL ---------------------------------------------------------------------------------
if (!existsSync(join(BUILD, 'dist/src/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const bash = (script) => execFileSync('bash', ['-c', `source "${ROOT}/scripts/pg-cluster.sh"; ${script}`], { encoding: 'utf8' });
let cluster;
let adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  const [url, dir] = bash(`pg_cluster_start >&2 && psql "$PG_CLUSTER_URL" -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >&2 && _pg_as "$PGBIN/pg_ctl -D $PG_CLUSTER_DIR/data -w restart -l $PG_CLUSTER_DIR/server.log" >&2 && echo "$PG_CLUSTER_URL|$PG_CLUSTER_DIR"`).trim().split('\n').pop().split('|');
  cluster = dir;
  adminUrl = url;
}
process.on('exit', () => cluster && bash(`PG_CLUSTER_DIR="${cluster}" pg_cluster_stop`));
const psql = (url, sql) => execFileSync('psql', [url, '-XAtqc', sql], { encoding: 'utf8' });
const db = `latchkey_profile_${Date.now().toString(36)}`;
psql(adminUrl, `CREATE DATABASE ${db}`);
const dbUrl = Object.assign(new URL(adminUrl), { pathname: `/${db}` }).href;
let statements = false;
try {
  statements = psql(dbUrl, 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT count(*) >= 0 FROM pg_stat_statements').trim() === 't';
} catch {
  log('pg_stat_statements is not loaded on this server: no statement table');
}
const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-profile-data-'));
let postmaster = 0; // a server on this machine: its pid, from postmaster.pid in its data directory
try {
  postmaster = Number(readFileSync(join(psql(dbUrl, 'SHOW data_directory').trim(), 'postmaster.pid'), 'utf8').split('\n')[0]);
} catch {
  log('PostgreSQL runs elsewhere (or its data directory is unreadable): no PostgreSQL CPU figure');
}
const env = { ...process.env, NODE_ENV: 'production', PORT: String(PORT), HOST: '127.0.0.1', ISSUER, DATABASE_URL: dbUrl,
  DATA_DIR: dataDir, DATABASE_POOL_SIZE: '16', LOG_LEVEL: 'warn', RATE_LIMIT_TOKEN: '100000000', RATE_LIMIT_AUTHORIZE: '100000000',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url'), SESSION_SECRET: Buffer.alloc(32, 4).toString('base64url') };
const cli = (args) => {
  const out = spawnSync(process.execPath, [join(BUILD, 'dist/src/cli.js'), ...args, '--json'], { env, encoding: 'utf8', input: PASSWORD });
  if (out.status !== 0) throw new Error(`cli ${args[0]}: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop());
};
const server = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, join(BUILD, 'dist/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
process.on('exit', () => server.exitCode === null && server.kill('SIGKILL'));
await waitFor(`${ISSUER}/health/ready`);
const pub = cli(['client:create', '--name', 'bench', '--auth-method', 'none', '--redirect-uri', 'http://127.0.0.1:9999/cb',
  '--grant-types', 'authorization_code,refresh_token', '--scope', 'openid profile api:read']);
const rs = cli(['client:create', '--name', 'bench-rs', '--auth-method', 'client_secret_basic', '--grant-types', 'client_credentials', '--scope', 'api:read']);
cli(['user:create', '--username', 'bench-user', '--password-stdin']);
if (process.env.BENCH_SQL) psql(dbUrl, process.env.BENCH_SQL); // an experiment on the schema (A/B)
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return [Number(f[11]), Number(f[12])];
};
if (PIN) {
  // the server alone on CPU 0; PostgreSQL (every backend forks from the postmaster) and the harness on the others
  execFileSync('taskset', ['-a', '-cp', '0', String(server.pid)], { stdio: 'ignore' });
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') execFileSync('taskset', ['-a', '-cp', OTHER_CPUS, pid], { stdio: 'ignore' });
    } catch {}
  }
}
const [u0, s0] = ticks(server.pid);
const pgAt = { from: 0, to: 0 };
const { r, window } = await harness(ISSUER, ['--client-id', pub.client_id, '--username', 'bench-user', '--password', PASSWORD, '--server-pid', String(server.pid),
  '--introspect-client-id', rs.client_id, `--introspect-client-secret=${rs.client_secret}`], () => {
  pgAt.from = postgresTicks(postmaster);
  if (statements) psql(dbUrl, 'SELECT pg_stat_statements_reset()');
  setTimeout(() => (pgAt.to = postgresTicks(postmaster)), Number(DURATION) * 1000);
});
const [u1, s1] = ticks(server.pid);
const top = statements
  ? psql(dbUrl, `SELECT calls, round(total_exec_time::numeric * 1000), regexp_replace(left(query, 110), '\\s+', ' ', 'g')
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC LIMIT ${TOP}`)
  : '';
await stop(server);
console.log(`Latchkey ${MODE}, ${USERS} users: ${r.ops_per_s} ops/s, ${r.ops} operations, server ${r.cpu_pct_of_one_core?.server} % of a core, p99 ${JSON.stringify(r.latency_ms)}`);
if (postmaster) console.log(`PostgreSQL CPU per operation (this server's processes, measured window): ${(((pgAt.to - pgAt.from) * 10_000) / r.ops).toFixed(0)} µs`);
console.log(`server CPU over the whole harness run (logins included): ${((100 * (s1 - s0)) / (u1 - u0 + s1 - s0)).toFixed(0)} % in the kernel`);
summarise(newestProfile(), r, window);
if (top) {
  console.log('\n| PostgreSQL statement (pg_stat_statements, from the measured window on) | calls per op | execution µs per op |\n|---|---|---|');
  for (const line of top.trim().split('\n')) {
    const [calls, us, q] = line.split('|');
    console.log(`| \`${q.replace(/\|/g, '\\|')}\` | ${(calls / r.ops).toFixed(2)} | ${(us / r.ops).toFixed(1)} |`);
  }
}
psql(adminUrl, `DROP DATABASE ${db} WITH (FORCE)`);
rmSync(dataDir, { recursive: true, force: true });
if (!process.env.BENCH_PROFILE_DIR) rmSync(PROFILE_DIR, { recursive: true, force: true });
