#!/usr/bin/env node
// `npm run bench:scale`: steady state at scale (issue 18, target 4). On PostgreSQL only (a throwaway 15 cluster,
// or the server in DATABASE_URL: databases are created on it and dropped at the end), it:
//   1. runs the flow harness (../shared/bench/flow-bench.mjs) in flow, refresh and introspect modes at 16 and 64
//      users on empty tables (the server runs its migrations; the bench clients and user come from the CLI);
//   2. stops the server and loads that database in SQL (INSERT … SELECT generate_series, one statement per
//      table, or per chunk of 500,000 requests for the audit trail; each step timed): 1,000,000 users (one real
//      scrypt hash shared by all), 100,000 clients (public, confidential and service clients), 1,000,000 live
//      grants each with its live refresh token, their consents, 100,000 live sessions, 10,000 revoked access
//      tokens, 50,000 lockout keys, and 10,000,000 audit events over 90 days in the daily partitions the app
//      creates (requests of one or two events, real client and user ids, failures of every kind, a few
//      attacks); then VACUUM (ANALYZE), the rollups of the closed audit days (as the hourly maintenance) and a
//      CHECKPOINT;
//   3. times the security report over the last 24 hours and 30 days (the report service's own SQL, median of
//      several runs after a warm-up; goals < 200 ms and < 1 s);
//   4. restarts the server on the loaded database and starts a second one on a fresh empty database
//      (BENCH_PORT + 1), then runs the same modes on both, alternating run by run, BENCH_SCALE_ROUNDS times:
//      the comparison empty vs loaded is made on the same machine at the same time (this machine's load moves
//      figures by ±30 % from one minute to the next);
//   5. EXPLAIN (ANALYZE, BUFFERS) of every hot statement — the repositories' own SQL text and parameters,
//      captured from the built code, with real values from the loaded data — as a custom and as a generic plan
//      (the one a prepared statement ends up with), statements that write inside BEGIN … ROLLBACK; a plan with a
//      Seq Scan on a table of more than BENCH_SCALE_SEQ_ROWS (5,000) rows fails;
//   and writes bench/SCALE-RESULTS.md (tables, raw JSON) and bench/SCALE-PLANS.md (every plan).
// Goals per mode and level: loaded ops/s ≥ 0.9 × empty, CPU ms per op (server + PostgreSQL) ≤ 1.1 × empty.
// Options (env): BENCH_SCALE (1: every count above times this; 0.01 for development), BENCH_LEVELS ("16 64"),
//   BENCH_MODES ("flow refresh introspect"), BENCH_DURATION (15 s), BENCH_SCALE_ROUNDS (2), BENCH_PORT (3210; the
//   empty database's server BENCH_PORT + 1), PG_PORT (55470, or a free port when that one is taken),
//   DATABASE_URL, BENCH_SCALE_SEQ_ROWS (5000), BENCH_HARNESS_DIR, DATABASE_POOL_SIZE (16).
// Development aids: BENCH_SCALE_KEEP=1 leaves the cluster and its databases at the end (and says where);
//   BENCH_SCALE_REUSE=<that cluster's directory> runs steps 4–5 again on it without reloading (results in
//   bench/out/ only).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  HARNESS, PASSWORD, ROOT, clusterTicks, ensureBuild, latchkeyEnv, latchkeyServer, pgCluster, postgresTicks,
  registerBenchClients, requireHarness,
} from './common.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
if (!(SCALE > 0)) throw new Error('BENCH_SCALE must be a positive number');
const count = (n) => Math.max(1, Math.round(n * SCALE));
const COUNTS = {
  users: count(1_000_000),
  clients: count(100_000),
  grants: count(1_000_000),
  events: count(10_000_000),
  sessions: count(100_000),
  revokedAccessTokens: count(10_000),
  lockouts: count(50_000),
};
const LEVELS = (process.env.BENCH_LEVELS ?? '16 64').split(/\s+/).filter(Boolean).map(Number);
const MODES = (process.env.BENCH_MODES ?? 'flow refresh introspect').split(/\s+/).filter(Boolean);
const DURATION = process.env.BENCH_DURATION ?? '15';
const PORT = Number(process.env.BENCH_PORT ?? 3210);
const SEQ_ROWS = Number(process.env.BENCH_SCALE_SEQ_ROWS ?? 5000);
const DAY = 86_400_000;
const log = (...a) => console.error('[bench:scale]', ...a);
const require = createRequire(join(ROOT, 'package.json'));

requireHarness();
ensureBuild();
require('reflect-metadata');
const pg = require('pg');
const dist = (p) => require(join(ROOT, 'dist/src', p));

// ---- processes ----------------------------------------------------------------------------------------
async function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
if (!(await portFree(PORT))) {
  console.error(`port ${PORT} is in use (another server?): set BENCH_PORT`);
  process.exit(1);
}
const cluster = pgCluster();
/** The databases under test, each with its Latchkey process (see `target`). */
const targets = [];
process.on('exit', () => {
  for (const t of targets) t.server.stop();
  try {
    cluster.stop();
  } catch {}
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

// development aids: keep the cluster and the databases at the end; run steps 4–5 again on a kept cluster
const KEEP = process.env.BENCH_SCALE_KEEP === '1';
const REUSE = process.env.BENCH_SCALE_REUSE;
const ownCluster = !!REUSE || !/^postgres(ql)?:/.test(process.env.DATABASE_URL ?? '');
let serverUrl = process.env.DATABASE_URL;
if (REUSE) serverUrl = cluster.adopt(REUSE);
else if (ownCluster) {
  const wanted = process.env.PG_PORT ?? '55470';
  serverUrl = cluster.start((await portFree(Number(wanted))) ? wanted : undefined);
}
/** PostgreSQL CPU ticks: our own cluster's processes only; with DATABASE_URL every postgres process here. */
const pgTicks = () => (ownCluster ? clusterTicks(cluster.dir) ?? 0 : postgresTicks());
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function withClient(url, work) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}
async function createDatabase(name) {
  await withClient(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.href;
}
const dropDatabase = (name) => withClient(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

// ---- the harness against one database -----------------------------------------------------------------------
/** A database under test with its own Latchkey process (port) and, once registered, its bench clients. */
function target(label, url, port) {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-scale-'));
  const env = latchkeyEnv(port, { DATABASE_URL: url, DATA_DIR: dataDir, DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '16' });
  return { label, url, env, dataDir, server: latchkeyServer(), clients: null, pid: null, stats: null };
}
async function startTarget(t) {
  t.pid = await t.server.start(t.env);
  t.clients ??= registerBenchClients(t.env);
  t.stats = new pg.Client({ connectionString: t.url });
  await t.stats.connect();
  await harnessRun(t, 'flow', 16, 5); // warm-up (JIT, caches, prepared statements), not recorded
}
async function stopTarget(t) {
  await t.server.stop();
  await t.stats?.end();
  t.stats = null;
}

const lsnBytes = (lsn) => {
  const [hi, lo] = lsn.split('/');
  return Number((BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`));
};
/** What the window's figures are computed from: PostgreSQL's CPU ticks, the WAL position, buffer counters. */
async function snapshot(t) {
  const [w, d] = await Promise.all([
    t.stats.query('SELECT pg_current_wal_lsn()::text AS lsn, (SELECT wal_fpi FROM pg_stat_wal)::bigint AS fpi'),
    t.stats.query('SELECT blks_read::bigint AS r, blks_hit::bigint AS h FROM pg_stat_database WHERE datname = current_database()'),
  ]);
  return { t: performance.now(), ticks: pgTicks(), wal: lsnBytes(w.rows[0].lsn), fpi: Number(w.rows[0].fpi),
    read: Number(d.rows[0].r), hit: Number(d.rows[0].h) };
}

/**
 * One harness run against `t`. PostgreSQL's side is measured over the harness's own window (after its logins
 * and its 2 s warm-up, for `duration` s): the run's start is read from the harness's progress line. WAL bytes
 * are exact (pg_current_wal_lsn); FPIs and buffer counters come from the cumulative statistics, which backends
 * flush about once a second (±1 s of a 15 s window).
 */
function harnessRun(t, mode, c, duration = Number(DURATION)) {
  const warmup = 2;
  return new Promise((resolve) => {
    const { pub, rs } = t.clients;
    const child = spawn(process.execPath, [join(HARNESS, 'flow-bench.mjs'), '--issuer', t.env.ISSUER,
      '--client-id', pub.client_id, '--scope', 'api:read', '--username', 'bench-user', '--password', PASSWORD,
      '--mode', mode, '--concurrency', String(c), '--warmup', String(warmup), '--duration', String(duration),
      '--server-pid', String(t.pid), '--introspect-client-id', rs.client_id,
      `--introspect-client-secret=${rs.client_secret}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let a;
    let b;
    const timers = [];
    let armed = false;
    child.stdout.on('data', (x) => (out += x));
    child.stderr.on('data', (x) => {
      process.stderr.write(x);
      if (armed) return;
      err += x;
      if (/mode=\S+ c=\d+ warmup=/.test(err)) {
        armed = true;
        timers.push(setTimeout(() => (a = snapshot(t)), warmup * 1000));
        timers.push(setTimeout(() => (b = snapshot(t)), (warmup + duration) * 1000));
      }
    });
    timers.push(setTimeout(() => child.kill('SIGKILL'), 300_000));
    child.on('close', async () => {
      timers.forEach(clearTimeout);
      const line = out.trim().split('\n').pop();
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        r = { error: `harness failed: ${line}` };
      }
      const [s0, s1] = [await a, await b];
      const m = {};
      if (s0 && s1 && r.ops) {
        const secs = (s1.t - s0.t) / 1000;
        m.pgPct = (s1.ticks - s0.ticks) / secs; // % of one core
        // operations in the snapshot window (the harness counted r.ops in its own, nearly identical one)
        const ops = r.ops * (secs / r.duration_s);
        m.walBytesPerOp = (s1.wal - s0.wal) / ops;
        m.fpiPerOp = (s1.fpi - s0.fpi) / ops;
        m.blocksReadPerOp = (s1.read - s0.read) / ops;
        m.blocksHitPerOp = (s1.hit - s0.hit) / ops;
        const serverPct = r.cpu_pct_of_one_core?.server;
        if (serverPct != null) m.cpuMsPerOp = ((serverPct + m.pgPct) * 10) / r.ops_per_s;
        const mach = r.cpu_pct_of_one_core?.machine;
        if (mach != null && serverPct != null) m.othersPct = mach - r.cpu_pct_of_one_core.harness - serverPct - m.pgPct;
      }
      resolve({ r, ...m });
    });
  });
}

async function measure(t, pass, mode, c) {
  const load = loadavg();
  const m = await harnessRun(t, mode, c);
  const x = { pass, mode, c, loadavg: load, ...m };
  log(`${pass} ${mode} c=${c}: ${m.r.ops_per_s ?? m.r.error} ops/s, ${m.cpuMsPerOp?.toFixed(2)} CPU ms/op, ` +
    `${m.walBytesPerOp?.toFixed(0)} WAL bytes/op, ${m.blocksReadPerOp?.toFixed(2)} blocks read/op (load ${load})`);
  return x;
}

// ---- the load ---------------------------------------------------------------------------------------------
const FIRST = ['maria', 'james', 'anna', 'wei', 'fatima', 'lucas', 'sofia', 'noah', 'yuki', 'amir', 'elena', 'omar',
  'chloe', 'mateo', 'priya', 'liam', 'zara', 'ivan', 'mia', 'kofi', 'lena', 'hugo', 'aisha', 'leo', 'nora', 'raj',
  'ines', 'felix', 'sara', 'tom', 'julia', 'ali', 'emma', 'jonas', 'lea', 'diego', 'hana', 'paul', 'nina', 'sam'];
const LAST = ['garcia', 'smith', 'muller', 'wang', 'khan', 'silva', 'rossi', 'kim', 'tanaka', 'nguyen', 'novak',
  'dubois', 'jensen', 'kowalski', 'patel', 'haddad', 'okafor', 'ivanova', 'schmidt', 'lopez', 'berg', 'costa',
  'martin', 'sato', 'fischer', 'moreau', 'ali', 'weber', 'larsen', 'murphy'];
const sqlArray = (xs) => `ARRAY[${xs.map((x) => `'${x}'`).join(',')}]`;
/** 'lk_' + 22 base64url characters, like generateClientId() (16 random bytes). */
const CLIENT_ID_EXPR = (seed) =>
  `'lk_' || rtrim(translate(encode(decode(md5(${seed}), 'hex'), 'base64'), '+/', '-_'), '=')`;
const sha256Hex = (bytea) => `encode(sha256(${bytea}), 'hex')`;

/**
 * Requests of the normal mix, in per-10,000 of requests: each is one or two events (two: the event that names
 * the request first, then its second event: request_first false). Fields: weight, client kind ('code' = an
 * authorization-code client, 'svc' = a client_credentials client, 'unknown', null), events: [type, outcome,
 * error_code, reason, subject ('user' | 'client' | null), details kind, duration ms].
 */
const REQUESTS = [
  [1100, 'code', [['authorization.requested', 'success', null, null, null, 'scope', 2], ['authorization_code.issued', 'success', null, null, 'user', 'code', 3]]],
  [500, 'code', [['authorization.requested', 'success', null, null, null, 'scope', 1]]],
  [600, null, [['login.succeeded', 'success', null, null, 'user', 'empty', 150]]],
  [200, 'code', [['consent.granted', 'success', null, null, 'user', 'scope', 12], ['authorization_code.issued', 'success', null, null, 'user', 'code', 3]]],
  [900, 'code', [['token.issued', 'success', null, null, 'user', 'issued_code', 4]]],
  [300, 'code', [['token.issued', 'success', null, null, 'user', 'issued_code', 5], ['id_token.issued', 'success', null, null, 'user', 'id_token', 1]]],
  [2000, 'code', [['token.issued', 'success', null, null, 'user', 'issued_refresh', 3]]],
  [500, 'code', [['token.issued', 'success', null, null, 'user', 'issued_refresh', 4], ['id_token.issued', 'success', null, null, 'user', 'id_token', 1]]],
  [2350, 'svc', [['token.introspected', 'success', null, null, null, 'active', 1]]],
  [10, 'svc', [['token.introspected', 'success', null, null, null, 'inactive', 1]]],
  [300, 'svc', [['token.issued', 'success', null, null, 'client', 'issued_cc', 2]]],
  [400, 'code', [['userinfo.served', 'success', null, null, 'user', 'scope', 2]]],
  [150, 'code', [['token.revoked', 'success', null, null, null, 'revoked', 2]]],
  [100, 'code', [['logout.completed', 'success', null, null, 'user', 'logout', 3]]],
  [80, 'code', [['token.request_failed', 'failure', 'invalid_grant', 'code_expired', null, 'fail_code', 3]]],
  [50, 'code', [['token.request_failed', 'failure', 'invalid_grant', 'refresh_expired', null, 'fail_refresh', 3]]],
  [50, 'code', [['token.request_failed', 'failure', 'invalid_request', 'invalid_request', null, 'fail_code', 1]]],
  [5, 'code', [['token.request_failed', 'failure', 'invalid_grant', 'pkce_verifier_mismatch', null, 'fail_code', 3]]],
  [5, 'code', [['token.request_failed', 'failure', 'invalid_grant', 'refresh_reused', null, 'fail_refresh', 3]]],
  [250, null, [['login.failed', 'failure', null, 'invalid_credentials', 'user', 'reason', 140]]],
  [50, 'code', [['authorization.rejected', 'failure', 'invalid_scope', 'invalid_scope', null, 'reason', 1]]],
  [20, 'code', [['authorization.rejected', 'failure', null, 'redirect_uri_mismatch', null, 'reason', 1]]],
  [30, 'unknown', [['authorization.rejected', 'failure', null, 'unknown_client', null, 'reason', 1]]],
  [20, 'svc', [['client.authentication_failed', 'failure', 'invalid_client', 'bad_secret', null, 'reason', 2]]],
  [30, null, [['api.access_denied', 'failure', 'invalid_token', 'invalid_token', null, 'denied', 1]]],
];
const REQUEST_TOTAL = REQUESTS.reduce((a, [w]) => a + w, 0);
if (REQUEST_TOTAL !== 10_000) throw new Error(`request mix sums to ${REQUEST_TOTAL}`);
const EVENTS_PER_REQUEST = REQUESTS.reduce((a, [w, , ev]) => a + w * ev.length, 0) / REQUEST_TOTAL;
const q = (v) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v}'`);
const MIX_VALUES = (() => {
  let lo = 0;
  const rows = [];
  REQUESTS.forEach(([w, clientKind, events]) => {
    events.forEach(([type, outcome, code, reason, subject, details, dur], n) => {
      rows.push(`(${lo}, ${lo + w}, ${q(clientKind)}, ${n + 1}, ${q(type)}, ${q(outcome)}, ${q(code)}, ${q(reason)}, ${q(subject)}, ${q(details)}, ${dur})`);
    });
    lo += w;
  });
  return rows.join(',\n           ');
})();
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'okhttp/4.12.0',
  'python-requests/2.32.3',
  'Go-http-client/2.0',
];

/** One chunk of requests [first, last] of `total`, spread over [start, start + span) in time order. */
function auditChunkSql(first, last, total, startIso, spanSeconds) {
  return `
    WITH mix(lo, hi, client_kind, n, type, outcome, error_code, reason, subject, details, dur) AS (
      VALUES ${MIX_VALUES}),
    r AS MATERIALIZED (
      SELECT i, '${startIso}'::timestamptz + ((i + random()) / ${total}) * make_interval(secs => ${spanSeconds}) AS at,
             floor(random() * 10000)::int AS k,
             1 + floor(random() * (SELECT count(*) FROM scale_users))::int AS un,
             1 + floor((SELECT count(*) FROM scale_code_clients) * power(random(), 3))::int AS cn,
             1 + floor((SELECT count(*) FROM scale_svc_clients) * power(random(), 2))::int AS sn,
             floor(random() * 262144)::int AS h,
             floor(random() * ${USER_AGENTS.length})::int AS ua,
             gen_random_uuid() AS rid
        FROM generate_series(${first}, ${last}) AS i)
    INSERT INTO audit_events (occurred_at, type, outcome, error_code, reason, client_id, subject, ip, user_agent,
                              duration_ms, request_id, details, request_first, request_first_failure)
    SELECT r.at + (mix.n - 1) * interval '3 milliseconds', mix.type, mix.outcome, mix.error_code, mix.reason,
           CASE mix.client_kind WHEN 'code' THEN cc.client_id WHEN 'svc' THEN sc.client_id
                                WHEN 'unknown' THEN 'unknown-' || (r.h % 997) END,
           CASE mix.subject WHEN 'user' THEN u.id::text WHEN 'client' THEN sc.client_id END,
           CASE WHEN r.h % 10 = 0 THEN ('2001:db8:' || to_hex(r.h / 65536) || ':' || to_hex(r.h % 65536) || '::' || to_hex(r.k))::inet
                ELSE ('100.' || (64 + r.h / 65536) || '.' || ((r.h / 256) % 256) || '.' || (r.h % 256))::inet END,
           (${sqlArray(USER_AGENTS.map((s) => s.replaceAll("'", "''")))})[r.ua + 1],
           mix.dur + (r.k % 7),
           r.rid::text,
           CASE mix.details
             WHEN 'scope' THEN jsonb_build_object('scope', cc.scope)
             WHEN 'code' THEN jsonb_build_object('scope', cc.scope, 'challenge_sha256', ${sha256Hex("uuid_send(r.rid)")})
             WHEN 'issued_code' THEN jsonb_build_object('scope', cc.scope, 'grant_id', md5(r.rid::text)::uuid, 'grant_type', 'authorization_code')
             WHEN 'issued_refresh' THEN jsonb_build_object('scope', cc.scope, 'grant_id', md5(r.rid::text)::uuid, 'grant_type', 'refresh_token')
             WHEN 'issued_cc' THEN jsonb_build_object('scope', 'api:read', 'grant_id', md5(r.rid::text)::uuid, 'grant_type', 'client_credentials')
             WHEN 'id_token' THEN jsonb_build_object('scope', cc.scope, 'grant_id', md5(r.rid::text)::uuid)
             WHEN 'active' THEN '{"active": true, "token_type": "access_token"}'::jsonb
             WHEN 'inactive' THEN '{"active": false, "token_type": "access_token"}'::jsonb
             WHEN 'revoked' THEN '{"token_type": "refresh_token"}'::jsonb
             WHEN 'logout' THEN '{"session_ended": true, "id_token_hint": true, "redirected": true}'::jsonb
             WHEN 'fail_code' THEN jsonb_build_object('reason', mix.reason, 'grant_type', 'authorization_code')
             WHEN 'fail_refresh' THEN jsonb_build_object('reason', mix.reason, 'grant_type', 'refresh_token')
             WHEN 'reason' THEN jsonb_build_object('reason', mix.reason)
             WHEN 'denied' THEN jsonb_build_object('reason', mix.reason, 'path', '/oauth/userinfo')
             ELSE '{}'::jsonb END,
           mix.n = 1, mix.n = 1 AND mix.outcome = 'failure'
      FROM r
      JOIN mix ON r.k >= mix.lo AND r.k < mix.hi
      JOIN scale_users u ON u.n = r.un
      JOIN scale_code_clients cc ON cc.n = r.cn
      JOIN scale_svc_clients sc ON sc.n = r.sn`;
}

/** Attacks of the kinds the report's rules look for: n failure events at `at` + i × step seconds. */
function attacksSql(atIso) {
  const attack = (n, step, type, outcome, code, reason, client, subject, ip, details = `'{}'::jsonb`) => `
    INSERT INTO audit_events (occurred_at, type, outcome, error_code, reason, client_id, subject, ip, user_agent,
                              duration_ms, request_id, details, request_first, request_first_failure)
    SELECT '${atIso}'::timestamptz + i * interval '${step} seconds', '${type}', '${outcome}', ${q(code)}, ${q(reason)},
           ${client}, ${subject}, (${ip})::inet, 'attack-tool/1.0', 3, gen_random_uuid()::text,
           ${details}${reason ? ` || jsonb_build_object('reason', '${reason}')` : ''}, true, ${outcome === 'failure'}
      FROM generate_series(0, ${n - 1}) AS i`;
  const code = `(SELECT client_id FROM scale_code_clients WHERE n = 7)`;
  const svc = `(SELECT client_id FROM scale_svc_clients WHERE n = 3)`;
  const user = `(SELECT id::text FROM scale_users WHERE n = 42)`;
  return [
    attack(60, 3, 'token.request_failed', 'failure', 'invalid_request', 'invalid_request', code, 'NULL', `'203.0.113.66'`),
    attack(6, 30, 'token.request_failed', 'failure', 'invalid_grant', 'pkce_verifier_mismatch', code, 'NULL', `'198.51.100.' || (1 + i)`),
    attack(2, 60, 'token.request_failed', 'failure', 'invalid_grant', 'code_replayed', code, 'NULL', `'192.0.2.30'`),
    attack(1, 60, 'token.request_failed', 'failure', 'invalid_grant', 'refresh_reused', code, 'NULL', `'192.0.2.31'`),
    attack(5, 20, 'authorization.rejected', 'failure', null, 'redirect_uri_mismatch', code, 'NULL', `'192.0.2.40'`),
    attack(30, 2, 'client.authentication_failed', 'failure', 'invalid_client', 'unknown_client', `'guess-' || i`, 'NULL', `'198.51.100.99'`),
    attack(3, 60, 'authorization.rejected', 'failure', null, 'pkce_plain_rejected', code, 'NULL', `'192.0.2.50'`),
    attack(25, 10, 'login.failed', 'failure', null, 'invalid_credentials', 'NULL', user, `'192.0.2.' || (60 + i)`),
    attack(40, 5, 'login.failed', 'failure', null, 'invalid_credentials', 'NULL', `md5('sprayed-' || i)`, `'203.0.113.77'`),
    attack(20, 15, 'client.authentication_failed', 'failure', 'invalid_client', 'bad_secret', svc, 'NULL', `'192.0.2.' || (80 + i % 5)`),
    attack(4, 120, 'authorization_code.issued', 'success', null, null, code, user, `'10.9.9.9'`,
      `jsonb_build_object('scope', 'api:read', 'challenge_sha256', ${sha256Hex("'constant challenge'::bytea")})`),
  ];
}

/** Starts the audit module alone (no HTTP) on `databaseUrl`: its partitions and its report, as bench/audit.mjs does. */
async function auditApp(databaseUrl, dataDir) {
  const { Module } = require('@nestjs/common');
  const { NestFactory } = require('@nestjs/core');
  const { ConfigModule } = require('@nestjs/config');
  const { EventEmitterModule } = require('@nestjs/event-emitter');
  const { DatabaseModule } = dist('database/database.module.js');
  const { EventsModule } = dist('events/events.module.js');
  const { AuditModule } = dist('audit/audit.module.js');
  const { ALL_NAMESPACES, setEnvironment } = dist('config/config.namespaces.js');
  const { loadEnvironment } = dist('config/environment.js');
  setEnvironment(loadEnvironment({
    NODE_ENV: 'test', DATABASE_URL: databaseUrl, DATA_DIR: dataDir, LOG_LEVEL: 'silent', DATABASE_POOL_SIZE: '4',
    KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url'), SESSION_SECRET: Buffer.alloc(32, 4).toString('base64url'),
  }));
  class ScaleAuditModule {}
  Module({
    imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: ALL_NAMESPACES }),
      EventEmitterModule.forRoot({ wildcard: false }), DatabaseModule, EventsModule, AuditModule],
  })(ScaleAuditModule);
  const app = await NestFactory.createApplicationContext(ScaleAuditModule, { logger: ['error', 'warn'] });
  setEnvironment(undefined);
  return app;
}

const secondsSince = (t0) => (performance.now() - t0) / 1000;

async function load(databaseUrl, app) {
  const steps = [];
  const { hashPassword } = dist('users/password-hasher.js');
  const { AuditRetentionService } = dist('audit/audit-retention.service.js');
  const total0 = performance.now();
  await withClient(databaseUrl, async (db) => {
    const step = async (name, rows, work) => {
      const t0 = performance.now();
      log(`load: ${name} …`);
      const n = await work();
      const s = secondsSince(t0);
      steps.push({ name, rows: n ?? rows, seconds: s });
      log(`load: ${name}: ${(n ?? rows)?.toLocaleString('en') ?? ''} in ${s.toFixed(1)} s`);
    };
    const run = async (sql, params) => (await db.query(sql, params)).rowCount;

    let hash;
    await step('password hash (scrypt, once)', 1, async () => {
      hash = await hashPassword('scale-user-password-1');
    });
    await step('users', COUNTS.users, () => run(`
      INSERT INTO users (id, username, username_normalized, password_hash, name, email, email_verified, enabled,
                         created_at, updated_at)
      SELECT gen_random_uuid(), u.username, lower(u.username), $1, initcap(u.f) || ' ' || initcap(u.l),
             lower(u.username) || '@' || (ARRAY['example.com', 'example.org', 'mail.example.net'])[1 + u.i % 3],
             u.i % 4 <> 0, u.i % 200 <> 0, u.t, u.t
        FROM (SELECT i, f, l, t,
                     CASE i % 3 WHEN 0 THEN f || '.' || l || i WHEN 1 THEN substr(f, 1, 1) || l || '_' || i
                                ELSE f || '_' || l || (i::bigint * 7) END AS username
                FROM (SELECT i, (${sqlArray(FIRST)})[1 + (i::bigint * 7919) % ${FIRST.length}] AS f,
                             (${sqlArray(LAST)})[1 + (i::bigint * 104729) % ${LAST.length}] AS l,
                             now() - random() * interval '730 days' AS t
                        FROM generate_series(1, ${COUNTS.users}) AS i) s) u`, [hash]));
    await step('clients', COUNTS.clients, () => run(`
      INSERT INTO clients (client_id, client_name, token_endpoint_auth_method, secret_hash, redirect_uris,
                           post_logout_redirect_uris, grant_types, scope, require_consent, enabled,
                           dpop_bound_access_tokens, require_pushed_authorization_requests, created_by, created_at,
                           updated_at)
      SELECT ${CLIENT_ID_EXPR(`'scale-client-' || i || '-' || random()`)},
             'scale-' || (CASE WHEN kind < 8 THEN 'app' WHEN kind < 17 THEN 'web' ELSE 'service' END) || '-' || i,
             CASE WHEN kind < 8 THEN 'none' WHEN kind % 4 = 0 THEN 'client_secret_post' ELSE 'client_secret_basic' END,
             CASE WHEN kind >= 8 THEN ${sha256Hex(`uuid_send(gen_random_uuid())`)} END,
             CASE WHEN kind < 4 THEN ARRAY['https://app' || i || '.example.com/callback']
                  WHEN kind < 8 THEN ARRAY['com.example.app' || i || ':/oauth2redirect', 'http://127.0.0.1/callback']
                  WHEN kind < 17 THEN ARRAY['https://web' || i || '.example.com/auth/callback',
                                            'https://web' || i || '.example.com/auth/silent']
                  ELSE '{}'::text[] END,
             CASE WHEN kind >= 8 AND kind < 17 THEN ARRAY['https://web' || i || '.example.com/'] ELSE '{}'::text[] END,
             CASE WHEN kind < 17 THEN ARRAY['authorization_code', 'refresh_token'] ELSE ARRAY['client_credentials'] END,
             CASE WHEN kind < 8 THEN 'openid profile email api:read'
                  WHEN kind < 17 THEN 'openid profile api:read api:write' ELSE 'api:read' END,
             kind BETWEEN 12 AND 16, i % 100 <> 0, kind < 8 AND i % 20 = 0, kind < 17 AND i % 50 = 0, 'cli', t, t
        FROM (SELECT i, (i * 7) % 20 AS kind, now() - random() * interval '730 days' AS t
                FROM generate_series(1, ${COUNTS.clients}) AS i) s`));
    // numbered lists of the loaded users and clients, so that rows below pick them at random by number
    await step('numbered users and clients (temporary tables)', undefined, async () => {
      await db.query(`CREATE TEMP TABLE scale_users AS
        SELECT row_number() OVER ()::int AS n, id FROM users WHERE username <> 'bench-user'`);
      await db.query(`CREATE TEMP TABLE scale_code_clients AS
        SELECT row_number() OVER (ORDER BY created_at)::int AS n, client_id, scope, redirect_uris[1] AS redirect_uri
          FROM clients WHERE client_name LIKE 'scale-%' AND 'authorization_code' = ANY (grant_types) AND enabled`);
      await db.query(`CREATE TEMP TABLE scale_svc_clients AS
        SELECT row_number() OVER (ORDER BY created_at)::int AS n, client_id
          FROM clients WHERE client_name LIKE 'scale-%' AND 'client_credentials' = ANY (grant_types)`);
      for (const t of ['scale_users', 'scale_code_clients', 'scale_svc_clients']) {
        await db.query(`ALTER TABLE ${t} ADD PRIMARY KEY (n)`);
        await db.query(`ANALYZE ${t}`);
      }
    });
    // a live grant: created in the last 30 days (REFRESH_TOKEN_TTL), expiring 30 days after; its refresh token
    // was issued (last rotated) between the grant's creation and now, with the grant's absolute expiry
    await step('grants + their live refresh tokens (one statement)', COUNTS.grants, () => run(`
      WITH pick AS MATERIALIZED (
        SELECT i, 1 + floor(random() * (SELECT count(*) FROM scale_users))::int AS un,
               1 + floor((SELECT count(*) FROM scale_code_clients) * power(random(), 3))::int AS cn,
               now() - random() * interval '30 days' AS created_at, random() AS r
          FROM generate_series(1, ${COUNTS.grants}) AS i
      ), g AS (
        INSERT INTO grants (id, client_id, user_id, grant_type, scope, created_at, expires_at, nonce, auth_time, sid)
        SELECT gen_random_uuid(), c.client_id, u.id, 'authorization_code', c.scope, p.created_at,
               p.created_at + interval '30 days',
               CASE WHEN c.scope LIKE 'openid%' THEN rtrim(translate(encode(uuid_send(gen_random_uuid()), 'base64'), '+/', '-_'), '=') END,
               p.created_at - p.r * interval '10 minutes', gen_random_uuid()
          FROM pick p JOIN scale_users u ON u.n = p.un JOIN scale_code_clients c ON c.n = p.cn
        RETURNING id, client_id, scope, created_at, expires_at
      )
      INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, created_at, expires_at)
      SELECT ${sha256Hex('uuid_send(gen_random_uuid())')}, id, client_id, scope,
             created_at + random() * (now() - created_at), expires_at
        FROM g`));
    await step('consents (one per user and client of a live grant)', undefined, () => run(`
      INSERT INTO consents (user_id, client_id, scope, updated_at)
      SELECT DISTINCT ON (user_id, client_id) user_id, client_id, scope, created_at
        FROM grants WHERE client_id IN (SELECT client_id FROM scale_code_clients)
       ORDER BY user_id, client_id, created_at DESC
      ON CONFLICT DO NOTHING`));
    // live sessions: signed in within the last 11 hours (SESSION_ABSOLUTE_TTL 12h), seen within the idle TTL (30 min)
    await step('live sessions', COUNTS.sessions, () => run(`
      INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at, sid)
      SELECT ${sha256Hex('uuid_send(gen_random_uuid())')}, u.id, s.created, s.seen,
             LEAST(s.seen + interval '30 minutes', s.created + interval '12 hours'), s.created + interval '12 hours',
             gen_random_uuid()
        FROM (SELECT un, created, GREATEST(created, now() - random() * interval '25 minutes') AS seen
                FROM (SELECT 1 + floor(random() * (SELECT count(*) FROM scale_users))::int AS un,
                             now() - random() * interval '11 hours' AS created
                        FROM generate_series(1, ${COUNTS.sessions}) AS i) s0) s
        JOIN scale_users u ON u.n = s.un`));
    await step('revoked access tokens', COUNTS.revokedAccessTokens, () => run(`
      INSERT INTO revoked_access_tokens (jti, grant_id, revoked_at, expires_at)
      SELECT gen_random_uuid(), id, now() - random() * interval '14 minutes', now() + random() * interval '15 minutes'
        FROM grants TABLESAMPLE BERNOULLI (${Math.min(100, (100 * COUNTS.revokedAccessTokens) / COUNTS.grants)})
       LIMIT ${COUNTS.revokedAccessTokens}`));

    // login lockouts: usernames with failed sign-ins in the last day (key: HMAC of the normalised username),
    // kept a day (LockoutsRepository.purgeExpired); and a few (client_id, IP) keys of failed client authentication
    await step('lockouts', COUNTS.lockouts, () => run(`
      INSERT INTO lockouts (kind, key, failures, level, locked_until, updated_at)
      SELECT CASE WHEN i % 50 = 0 THEN 'client' ELSE 'user' END,
             CASE WHEN i % 50 = 0 THEN (SELECT client_id FROM scale_svc_clients WHERE n = 1 + i % 100) || '|100.64.' || (i % 256) || '.' || (i / 256 % 256)
                  ELSE ${sha256Hex("uuid_send(gen_random_uuid())")} END,
             1 + i % 4, CASE WHEN i % 97 = 0 THEN 1 ELSE 0 END,
             CASE WHEN i % 97 = 0 THEN now() + interval '5 minutes' END, now() - random() * interval '23 hours'
        FROM generate_series(1, ${COUNTS.lockouts}) AS i
      ON CONFLICT DO NOTHING`));
    // audit events: the daily partitions the app creates (AuditRetentionService.ensureRange), then the rows
    const now = Date.now();
    const start = new Date(now - 90 * DAY + 2 * 3600_000); // the hourly retention (AUDIT_RETENTION 90d) keeps all
    await step('audit partitions (AuditRetentionService.ensureRange)', undefined, async () => {
      const created = await app.get(AuditRetentionService).ensureRange(start, new Date(now + 7 * DAY));
      return created.length;
    });
    const requests = Math.round(COUNTS.events / EVENTS_PER_REQUEST);
    const chunk = 500_000;
    const spanSeconds = Math.floor((now - 60_000 - start.getTime()) / 1000);
    await step(`audit events (${requests.toLocaleString('en')} requests of ${EVENTS_PER_REQUEST.toFixed(2)} events, ${Math.ceil(requests / chunk)} statements)`, undefined, async () => {
      let n = 0;
      for (let first = 1; first <= requests; first += chunk) {
        n += await run(auditChunkSql(first, Math.min(requests, first + chunk - 1), requests, start.toISOString(), spanSeconds));
        log(`load: audit events ${n.toLocaleString('en')} …`);
      }
      for (const at of [new Date(now - 3 * 3600_000), new Date(now - 12 * DAY)])
        for (const sql of attacksSql(at.toISOString())) n += await run(sql);
      return n;
    });
    await step('VACUUM (ANALYZE)', undefined, () => run('VACUUM (ANALYZE)'));
    // as the server's hourly maintenance does (and bench:audit): the closed days' rollups, which the report reads
    await step('audit rollups of the closed days (AuditRetentionService.rollUp)', undefined, async () =>
      (await app.get(AuditRetentionService).rollUp()).length);
    await step('CHECKPOINT', undefined, () => run('CHECKPOINT'));
  });
  return { steps, total_s: secondsSince(total0) };
}

async function tableSizes(databaseUrl) {
  return withClient(databaseUrl, async (db) => {
    const { rows } = await db.query(`
      SELECT t.name, pg_total_relation_size(t.name::regclass) AS bytes
        FROM unnest(ARRAY['users', 'clients', 'grants', 'refresh_tokens', 'consents', 'sessions',
                          'revoked_access_tokens', 'authorization_codes', 'lockouts']) AS t(name)`);
    const out = {};
    for (const r of rows) {
      out[r.name] = { rows: Number((await db.query(`SELECT count(*)::bigint AS n FROM ${r.name}`)).rows[0].n), bytes: Number(r.bytes) };
    }
    const audit = await db.query(`
      SELECT count(*)::bigint AS n, min(occurred_at) AS first, max(occurred_at) AS last FROM audit_events`);
    const auditBytes = await db.query(`
      SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0)::bigint AS bytes, count(*)::int AS partitions
        FROM pg_inherits WHERE inhparent = 'audit_events'::regclass`);
    out.audit_events = { rows: Number(audit.rows[0].n), bytes: Number(auditBytes.rows[0].bytes), partitions: auditBytes.rows[0].partitions,
      first: audit.rows[0].first, last: audit.rows[0].last };
    out.database_bytes = Number((await db.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b);
    return out;
  });
}

// ---- the security report ----------------------------------------------------------------------------------
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function timeReports(app, databaseUrl) {
  const { SecurityReportService } = dist('audit/security-report.service.js');
  const reports = app.get(SecurityReportService);
  const time = async (window, runs) => {
    await reports.generate(window); // warm-up
    const times = [];
    let report;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      report = await reports.generate(window);
      times.push(performance.now() - t0);
    }
    const events = await withClient(databaseUrl, async (db) => Number((await db.query(
      'SELECT count(*)::bigint AS n FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2', [window.from, window.to])).rows[0].n));
    return { median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), runs, events,
      findings: report.findings.length, rules: [...new Set(report.findings.map((f) => f.rule))].sort() };
  };
  const now = new Date();
  return {
    day: await time({ from: new Date(now.getTime() - DAY), to: now }, 5),
    month: await time({ from: new Date(now.getTime() - 30 * DAY), to: now }, 3),
  };
}

// ---- PostgreSQL's own cost per operation ------------------------------------------------------------------
const COST_ROUNDS = Number(process.env.BENCH_SCALE_COST_ROUNDS ?? 5);
const COST_SECONDS = Number(process.env.BENCH_SCALE_COST_SECONDS ?? 3);

/**
 * Each mode's statements run by one connection in a loop, the repositories' own SQL as the named prepared
 * statements the server uses, on the loaded and on the empty database alternately: the backend's CPU time
 * (/proc/<pid>/stat) and the WAL written per operation, BENCH_SCALE_COST_SECONDS (3) per batch,
 * BENCH_SCALE_COST_ROUNDS (5) batches per mode and database. No HTTP, no harness, no concurrency: the steady
 * measure of what the tables' size costs PostgreSQL. The shape is the harness's (one user, one client, one
 * session; the refresh chain and the introspected grant are the loop's own). synchronous_commit is off for this
 * connection only (no wait for the WAL flush: CPU is what is measured).
 */
async function statementCost(dbs) {
  const { TokensRepository } = dist('tokens/tokens.repository.js');
  const { AuthorizationCodesRepository } = dist('authorization/authorization-codes.repository.js');
  const { AuditEventsRepository } = dist('audit/audit-events.repository.js');
  const { GrantsRepository } = dist('grants/grants.repository.js');
  // the grant id the token endpoint generates (tokens/grants/authorization-code.grant.ts)
  const { uuidV7 } = dist('common/crypto.js');
  const { randomUUID, randomBytes, createHash } = await import('node:crypto');
  const hex = () => createHash('sha256').update(randomBytes(32)).digest('hex');
  const challenge = createHash('sha256').update('verifier').digest('base64url');
  const setups = [];
  for (const t of dbs) {
    const c = new pg.Client({ connectionString: t.url });
    await c.connect();
    await c.query('SET synchronous_commit = off');
    const pid = (await c.query('SELECT pg_backend_pid() AS p')).rows[0].p;
    const user = (await c.query("SELECT id FROM users WHERE username = 'bench-user'")).rows[0].id;
    const client = (await c.query(`SELECT client_id, redirect_uris[1] AS redirect_uri FROM clients
      WHERE client_name = 'bench' ORDER BY created_at DESC LIMIT 1`)).rows[0];
    const session = hex();
    await c.query(`INSERT INTO sessions (id_hash, user_id, idle_expires_at, absolute_expires_at)
      VALUES ($1, $2, now() + interval '1 hour', now() + interval '1 hour')`, [session, user]);
    // named prepared statements on this connection, as preparedSql does on the server's pool
    const ds = { driver: { master: { query: (q) => c.query(q) } }, query: (text, params) => c.query(text, params).then((r) => r.rows) };
    ds.manager = ds;
    setups.push({ t, c, pid, user, client, session, repos: {
      codes: new AuthorizationCodesRepository(ds), tokens: new TokensRepository(ds), audit: new AuditEventsRepository(ds), grants: new GrantsRepository(ds) } });
  }
  const events = (s, n) => Array.from({ length: n }, () => ({ occurredAt: new Date(), type: 'token.issued', outcome: 'success',
    errorCode: null, reason: null, clientId: s.client.client_id, subject: s.user, ip: '127.0.0.1', userAgent: 'node', durationMs: 3,
    requestId: randomUUID(), details: { scope: 'api:read', grant_type: 'authorization_code' }, requestFirst: true, requestFirstFailure: false }));
  const ops = {
    // authorize (session + consent + code), the code exchange (grant + refresh token), three audit events
    async flow(s) {
      const code = hex();
      const issued = await s.repos.codes.insertForSession({ idHash: s.session, idleSeconds: 1800, touchAfterSeconds: 60 },
        { codeHash: code, clientId: s.client.client_id, redirectUri: s.client.redirect_uri, scope: 'api:read', codeChallenge: challenge,
          ttlSeconds: 60, nonce: null, maxAgeSeconds: null, dpopJkt: null }, true);
      if (!issued?.inserted) throw new Error('statementCost: no code issued (consent?)');
      const refresh = hex();
      const g = await s.repos.tokens.exchangeCode({ codeHash: code, grantId: uuidV7(), clientId: s.client.client_id,
        redirectUri: s.client.redirect_uri, codeChallenge: challenge, grantTtlSeconds: 2592000, refreshHash: refresh });
      if (!g) throw new Error('statementCost: exchange failed');
      await s.repos.audit.insertMany(events(s, 3));
      s.chain = { refresh, grant: g.grant_id };
    },
    async refresh(s) {
      const next = hex();
      if (!(await s.repos.tokens.rotateRefresh({ tokenHash: s.chain.refresh, clientId: s.client.client_id, successorHash: next, requestedScope: null })))
        throw new Error('statementCost: rotation failed');
      s.chain.refresh = next;
      await s.repos.audit.insertMany(events(s, 1));
    },
    async introspect(s) {
      if (!(await s.repos.grants.accessTokenActive(s.chain.grant, randomUUID()))) throw new Error('statementCost: inactive');
      await s.repos.audit.insertMany(events(s, 1));
    },
  };
  const ticks = (pid) => {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]);
    } catch {
      return null; // PostgreSQL on another machine: WAL only
    }
  };
  const samples = [];
  try {
    for (const s of setups) await ops.flow(s); // the first chain, and the statements prepared
    let k = 0;
    for (let round = 1; round <= COST_ROUNDS; round++) {
      for (const mode of MODES) {
        for (const s of k++ % 2 ? [...setups].reverse() : setups) {
          const w0 = (await s.c.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
          const t0 = ticks(s.pid);
          const c0 = performance.now();
          let n = 0;
          while (performance.now() - c0 < COST_SECONDS * 1000) {
            await ops[mode](s);
            n++;
          }
          const wallMs = performance.now() - c0;
          const t1 = ticks(s.pid);
          const wal = Number((await s.c.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS b', [w0])).rows[0].b);
          samples.push({ db: s.t.label, mode, round, ops: n, cpu_us: t0 === null ? null : ((t1 - t0) * 10_000) / n,
            wall_us: (wallMs * 1000) / n, wal_bytes: wal / n, loadavg: loadavg() });
        }
      }
      log(`statement cost: round ${round} of ${COST_ROUNDS}`);
    }
  } finally {
    for (const s of setups) await s.c.end();
  }
  return samples;
}

// ---- EXPLAIN of the hot statements ------------------------------------------------------------------------
/** The SQL text, parameters and prepared-statement name a repository method sends, captured with a stand-in DataSource (nothing runs). */
async function capture(call) {
  const sent = [];
  const fake = {
    // preparedSql sends { name, text, values } to the driver's pool: the prepared statement's name is kept
    driver: { master: { query: async (q) => (sent.push({ name: q.name, text: q.text, params: q.values ?? [] }), { rows: [] }) } },
    query: async (text, params) => (sent.push({ text, params: params ?? [] }), []),
  };
  fake.manager = fake;
  await call(fake);
  return sent;
}

/** A parameter as an SQL literal for EXECUTE (the statement's own parameter types apply to it). */
function literal(client, v) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return client.escapeLiteral(v.toISOString());
  if (Array.isArray(v)) {
    const el = (x) => (x === null || x === undefined ? 'NULL' : `"${String(x instanceof Date ? x.toISOString() : x).replace(/["\\]/g, '\\$&')}"`);
    return client.escapeLiteral(`{${v.map(el).join(',')}}`);
  }
  return client.escapeLiteral(String(v));
}

function planNodes(plan) {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

async function explainAll(databaseUrl) {
  const { TokensRepository } = dist('tokens/tokens.repository.js');
  const { GrantsRepository } = dist('grants/grants.repository.js');
  const { SessionsRepository } = dist('users/sessions.repository.js');
  const { UsersRepository } = dist('users/users.repository.js');
  const { ConsentsRepository } = dist('users/consents.repository.js');
  const { ClientsRepository } = dist('clients/clients.repository.js');
  const { AuthorizationCodesRepository } = dist('authorization/authorization-codes.repository.js');
  const { AuthorizationRequestsRepository } = dist('authorization/authorization-requests.repository.js');
  const { LockoutsRepository } = dist('rate-limit/lockouts.repository.js');
  const { AuditEventsRepository } = dist('audit/audit-events.repository.js');
  const { DpopProofsRepository } = dist('dpop/dpop-proofs.repository.js');
  const { IntrospectionRepository } = dist('tokens/introspection.repository.js');
  const { stagedAuditRow } = dist('audit/audit-sql.js');
  const { randomUUID, randomBytes, createHash } = await import('node:crypto');
  const hex = () => createHash('sha256').update(randomBytes(32)).digest('hex');

  return withClient(databaseUrl, async (db) => {
    const one = async (sql) => (await db.query(sql)).rows[0];
    // real values from the loaded data (never the bench's own rows)
    const session = await one(`
      SELECT s.id_hash, s.user_id, c.client_id, c.scope, cl.redirect_uris[1] AS redirect_uri, u.username_normalized
        FROM sessions s JOIN consents c ON c.user_id = s.user_id JOIN clients cl ON cl.client_id = c.client_id
        JOIN users u ON u.id = s.user_id
       WHERE s.idle_expires_at > now() AND cl.enabled AND cl.client_name LIKE 'scale-%'
         AND 'authorization_code' = ANY (cl.grant_types) AND u.username <> 'bench-user'
       LIMIT 1`);
    const refresh = await one(`
      SELECT r.token_hash, r.client_id, r.grant_id, g.user_id FROM refresh_tokens r TABLESAMPLE SYSTEM (1)
        JOIN grants g ON g.id = r.grant_id JOIN clients c ON c.client_id = r.client_id
       WHERE r.rotated_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now() AND g.revoked_at IS NULL
         AND c.client_name LIKE 'scale-%' AND c.enabled
       LIMIT 1`);
    const svc = await one(`SELECT client_id FROM clients WHERE client_name LIKE 'scale-service-%' LIMIT 1 OFFSET 17`);
    if (!session || !refresh || !svc) throw new Error('no loaded rows to take parameters from');
    const scope = session.scope.split(' ').filter((s) => s !== 'openid').slice(0, 2).join(' ');
    const codeHash = hex();
    const challenge = createHash('sha256').update('verifier').digest('base64url');
    // the code the exchange consumes: inserted by the authorize statement's own INSERT, in the same transaction
    const codeSetup = {
      sql: `INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at, auth_time, sid)
            VALUES ($1, $2, $3, $4, $5, $6, now() + interval '60 seconds', now(), gen_random_uuid())`,
      params: [codeHash, session.client_id, session.user_id, session.redirect_uri, scope, challenge],
    };
    const auditRows = [0, 1, 2].map((i) => ({
      occurredAt: new Date(), type: i === 2 ? 'authorization_code.issued' : 'token.issued', outcome: 'success',
      errorCode: null, reason: null, clientId: session.client_id, subject: session.user_id, ip: '100.64.1.2',
      userAgent: 'Mozilla/5.0', durationMs: 3, requestId: randomUUID(),
      details: { scope, grant_id: refresh.grant_id, grant_type: 'authorization_code' }, requestFirst: i !== 1, requestFirstFailure: false,
    }));
    // the staged audit rows the hot statements write with their change (audit/audit-sql.ts), as the services stage them
    const staged = (type) => stagedAuditRow({ ...auditRows[0], type, subject: null, details: { grant_type: 'authorization_code' } });
    const authorizeEvents = () => ({ requested: staged('authorization.requested'), issued: staged('authorization_code.issued') });
    const policy = { threshold: 5, baseSeconds: 60, maxSeconds: 3600, resetSeconds: 14400 };

    /** [path, statement name, capture, setup statements] — the hot paths first, then the secondary ones. */
    const checks = [
      ['login', 'user lookup by username (UsersRepository.findCredentials)', (ds) => new UsersRepository(ds).findCredentials(session.username_normalized)],
      ['login', 'lockout: count the attempt (LockoutsRepository.beginAttempt)', (ds) => new LockoutsRepository(ds).beginAttempt('k' + hex(), policy), [], 0],
      ['login', 'lockout: reset on success (LockoutsRepository.reset)', (ds) => new LockoutsRepository(ds).reset(hex())],
      ['login', 'session insert (SessionsRepository.insert)', (ds) => new SessionsRepository(ds).insert(hex(), session.user_id, 1800, 43200)],
      ['authorize', 'session lookup', (ds) => new SessionsRepository(ds).findLive(session.id_hash, 1800, 60)],
      ['authorize', 'session + consent + code insert', (ds) => new AuthorizationCodesRepository(ds).insertForSession(
        { idHash: session.id_hash, idleSeconds: 1800, touchAfterSeconds: 60 },
        { codeHash: hex(), clientId: session.client_id, redirectUri: session.redirect_uri, scope, codeChallenge: challenge, ttlSeconds: 60, nonce: null, maxAgeSeconds: null, dpopJkt: null }, true, authorizeEvents())],
      ['authorize', 'session + consent + code insert, 16 concurrent in one statement', (ds) => {
        const repository = new AuthorizationCodesRepository(ds);
        return Promise.all(Array.from({ length: 16 }, () => repository.insertForSession(
          { idHash: session.id_hash, idleSeconds: 1800, touchAfterSeconds: 60 },
          { codeHash: hex(), clientId: session.client_id, redirectUri: session.redirect_uri, scope, codeChallenge: challenge, ttlSeconds: 60, nonce: null, maxAgeSeconds: null, dpopJkt: null }, true, authorizeEvents())));
      }],
      ['authorize', 'client lookup (ClientsRepository.findRow, the cache fill)', (ds) => new ClientsRepository(ds).findRow(session.client_id)],
      ['consent', 'consent upsert (ConsentsRepository.grant)', (ds) => new ConsentsRepository(ds).grant(session.user_id, session.client_id, scope)],
      ['consent', 'pending request used (AuthorizationRequestsRepository.markUsed)', (ds) => new AuthorizationRequestsRepository(ds).markUsed(hex(), new Date(Date.now() + 600_000))],
      ['token', 'code exchange', (ds) => new TokensRepository(ds).exchangeCode({
        codeHash, grantId: randomUUID(), clientId: session.client_id, redirectUri: session.redirect_uri, codeChallenge: challenge,
        grantTtlSeconds: 2592000, refreshHash: hex(), proofJkt: null, refreshJkt: null, issuedEvent: staged('token.issued') }), [codeSetup]],
      ['token', 'code exchange, 16 concurrent in one statement', (ds) => {
        const repository = new TokensRepository(ds);
        return Promise.all(Array.from({ length: 16 }, (_, i) => repository.exchangeCode({
          codeHash: i === 0 ? codeHash : hex(), grantId: randomUUID(), clientId: session.client_id, redirectUri: session.redirect_uri,
          codeChallenge: challenge, grantTtlSeconds: 2592000, refreshHash: hex(), proofJkt: null, refreshJkt: null, issuedEvent: staged('token.issued') })));
      }, [codeSetup]],
      ['userinfo', 'user profile for userinfo (UsersRepository.findProfile)', (ds) => new UsersRepository(ds).findProfile(session.user_id)],
      ['refresh', 'refresh rotation', (ds) => new TokensRepository(ds).rotateRefresh({
        tokenHash: refresh.token_hash, clientId: refresh.client_id, successorHash: hex(), requestedScope: null, proofJkt: null, issuedEvent: staged('token.issued') })],
      ['refresh', 'refresh rotation, 16 concurrent in one statement', (ds) => {
        const repository = new TokensRepository(ds);
        return Promise.all(Array.from({ length: 16 }, (_, i) => repository.rotateRefresh({
          tokenHash: i === 0 ? refresh.token_hash : hex(), clientId: refresh.client_id, successorHash: hex(), requestedScope: null, proofJkt: null, issuedEvent: staged('token.issued') })));
      }],
      ['introspect', 'access-token introspection: state + its event (IntrospectionRepository)', (ds) =>
        new IntrospectionRepository(ds).accessTokenActive(refresh.grant_id, randomUUID(), staged('token.introspected'))],
      ['introspect', 'access-token introspection, 16 concurrent in one statement', (ds) => {
        const repository = new IntrospectionRepository(ds);
        return Promise.all(Array.from({ length: 16 }, () => repository.accessTokenActive(refresh.grant_id, randomUUID(), staged('token.introspected'))));
      }],
      ['bearer', 'access-token state (bearer guard, userinfo)', (ds) => new GrantsRepository(ds).accessTokenActive(refresh.grant_id, randomUUID())],
      ['bearer', 'access-token state, 16 concurrent checks in one statement', (ds) => {
        const repository = new GrantsRepository(ds);
        return Promise.all(Array.from({ length: 16 }, () => repository.accessTokenActive(refresh.grant_id, randomUUID())));
      }],
      ['introspect', 'refresh-token introspection', (ds) => new TokensRepository(ds).activeRefreshToken(refresh.token_hash)],
      ['revoke', 'access-token revocation (GrantsRepository.revokeAccessToken)', (ds) => new GrantsRepository(ds).revokeAccessToken(randomUUID(), refresh.grant_id, Date.now() / 1000 + 900, ds)],
      ['revoke', 'refresh-token owner (TokensRepository.findRefreshOwner)', (ds) => new TokensRepository(ds).findRefreshOwner(refresh.token_hash)],
      ['revoke', 'grant revocation with its refresh tokens (GrantsRepository.revokeGrant)', (ds) => new GrantsRepository(ds).revokeGrant(refresh.grant_id, 'revocation_request', ds)],
      ['audit', 'audit group commit, 3 rows', (ds) => new AuditEventsRepository(ds).insertMany(auditRows)],
      ['dpop', 'DPoP proof replay check', (ds) => new DpopProofsRepository(ds).remember(hex(), 300)],
      ['also', 'refresh failure diagnosis (TokensRepository.refreshTokenState)', (ds) => new TokensRepository(ds).refreshTokenState(refresh.token_hash, 0)],
      ['also', "a user's grants (GrantsRepository.listForUser)", (ds) => new GrantsRepository(ds).listForUser(refresh.user_id, 50, null)],
      ['also', "a user's grants revoked (GrantsRepository.revokeUserGrants)", (ds) => new GrantsRepository(ds).revokeUserGrants(refresh.user_id, null, 'admin', ds)],
    ];

    const sizes = {};
    const rowsOf = async (rel) => {
      if (!(rel in sizes)) sizes[rel] = Number((await db.query(`SELECT count(*)::bigint AS n FROM ${db.escapeIdentifier(rel)}`)).rows[0].n);
      return sizes[rel];
    };
    /** Plans one statement (custom and generic), inside BEGIN … ROLLBACK after its setup statements. */
    const check = async (path, name, text, params, setup = []) => {
      const entry = { path, name, sql: text, params, plans: {} };
      for (const mode of ['custom', 'generic']) {
        await db.query('BEGIN');
        try {
          for (const s of setup) await db.query(s.sql, s.params);
          await db.query(`PREPARE scale_check AS ${text}`);
          await db.query(`SET LOCAL plan_cache_mode = force_${mode}_plan`);
          const exec = `EXECUTE scale_check${params.length ? `(${params.map((p) => literal(db, p)).join(', ')})` : ''}`;
          // the same execution twice (JSON to check, text to keep): the second after a rollback to the savepoint
          await db.query('SAVEPOINT scale_plan');
          const json = (await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${exec}`)).rows[0]['QUERY PLAN'][0];
          await db.query('ROLLBACK TO SAVEPOINT scale_plan');
          const textPlan = (await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${exec}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
          entry.plans[mode] = { json, text: textPlan };
        } finally {
          await db.query('ROLLBACK');
          await db.query('DEALLOCATE ALL');
        }
      }
      const scans = [];
      const indexes = new Set();
      for (const mode of ['custom', 'generic']) {
        for (const n of planNodes(entry.plans[mode].json.Plan)) {
          if (/Seq Scan/.test(n['Node Type']) && n['Relation Name'])
            scans.push({ mode, relation: n['Relation Name'], rows: await rowsOf(n['Relation Name']) });
          if (n['Index Name']) indexes.add(`${n['Index Name']} (${n['Node Type']})`);
          for (const arbiter of n['Conflict Arbiter Indexes'] ?? []) indexes.add(`${arbiter} (ON CONFLICT arbiter)`);
        }
      }
      entry.seq_scans = scans;
      entry.indexes = [...indexes];
      entry.big_seq_scans = scans.filter((x) => x.rows > SEQ_ROWS);
      entry.verdict = entry.big_seq_scans.length ? 'FAIL' : 'PASS';
      entry.execution_ms = { custom: entry.plans.custom.json['Execution Time'], generic: entry.plans.generic.json['Execution Time'] };
      return entry;
    };
    const results = [];
    for (const [path, name, call, setup = [], which = 0] of checks) {
      const sent = (await capture(call))[which];
      const entry = await check(path, sent.name ? `${name} (${sent.name})` : name, sent.text, sent.params, setup);
      results.push(entry);
      const scans = entry.seq_scans;
      log(`explain: ${entry.verdict} ${name}: ${entry.indexes.join(', ') || '(no index)'}${scans.length ? `; seq scans: ${scans.map((x) => `${x.relation} (${x.rows} rows, ${x.mode})`).join(', ')}` : ''}`);
    }
    // the check itself must be able to fail: a statement no index serves is flagged, or this run stops here
    const control = await check('control', 'grants by scope (no index serves it)', 'SELECT id FROM grants WHERE scope = $1', ['no such scope']);
    if (control.verdict !== 'FAIL') throw new Error(`the plan check did not flag a Seq Scan: ${JSON.stringify(control.seq_scans)}`);
    log(`explain: control FAILs as it must (${control.big_seq_scans.map((x) => `Seq Scan on ${x.relation}, ${x.rows} rows`).join(', ')})`);
    results.control = { seq_scans: control.big_seq_scans };
    return results;
  });
}

// ---- deleting at scale ----------------------------------------------------------------------------------------
// A client's, a user's and a purge batch's deletion on the loaded database (each inside BEGIN … ROLLBACK), with
// the schema as migrated and as it was before migration GrantDeletionIndexes (re-created inside the same
// transaction: the foreign key from authorization_codes.grant_id, partial indexes on grants, no consents index).
const DELETE_TIMEOUT_S = 60;
async function deletionTimes(databaseUrl) {
  return withClient(databaseUrl, async (db) => {
    const one = async (sql) => (await db.query(sql)).rows[0];
    const codes = Number((await one(`SELECT count(*)::int AS n FROM authorization_codes`)).n);
    const busiestClient = await one(`SELECT client_id AS id, count(*)::int AS grants FROM grants GROUP BY 1 ORDER BY 2 DESC LIMIT 1`);
    const loadClient = await one(`SELECT g.client_id AS id, count(*)::int AS grants FROM grants g JOIN clients c ON c.client_id = g.client_id
      WHERE c.client_name LIKE 'scale-%' GROUP BY 1 ORDER BY 2 DESC LIMIT 1`);
    const busiestUser = await one(`SELECT user_id AS id, count(*)::int AS grants FROM grants WHERE user_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1`);
    const loadUser = await one(`SELECT g.user_id AS id, count(*)::int AS grants FROM grants g JOIN users u ON u.id = g.user_id
      WHERE u.username <> 'bench-user' GROUP BY 1 ORDER BY 2 DESC LIMIT 1`);
    const cases = [
      { name: `a client of the load (${loadClient.grants} grants)`, sql: `DELETE FROM clients WHERE client_id = $1`, params: [loadClient.id] },
      { name: `the bench's client (${busiestClient.grants} grants, the bench's codes)`, sql: `DELETE FROM clients WHERE client_id = $1`, params: [busiestClient.id] },
      { name: `a user of the load (${loadUser.grants} grants)`, sql: `DELETE FROM users WHERE id = $1`, params: [loadUser.id] },
      { name: `the bench's user (${busiestUser.grants} grants, the bench's codes)`, sql: `DELETE FROM users WHERE id = $1`, params: [busiestUser.id] },
      { name: '1,000 grants (a purge batch)', sql: `DELETE FROM grants WHERE id IN (SELECT id FROM grants WHERE client_id <> $1 ORDER BY expires_at LIMIT 1000)`, params: [busiestClient.id] },
    ];
    const BEFORE = [
      `DROP INDEX grants_client_all_idx`, `DROP INDEX grants_user_all_idx`, `DROP INDEX consents_client_idx`,
      `CREATE INDEX grants_client_idx ON grants (client_id) WHERE revoked_at IS NULL`,
      `CREATE INDEX grants_user_idx ON grants (user_id, client_id) WHERE revoked_at IS NULL`,
      `ALTER TABLE authorization_codes ADD CONSTRAINT authorization_codes_grant_id_fkey
         FOREIGN KEY (grant_id) REFERENCES grants (id) ON DELETE SET NULL NOT VALID`,
    ];
    const results = [];
    for (const c of cases) {
      const row = { name: c.name };
      for (const schema of ['migrated', 'before']) {
        await db.query('BEGIN');
        try {
          if (schema === 'before') for (const ddl of BEFORE) await db.query(ddl);
          await db.query(`SET LOCAL statement_timeout = '${DELETE_TIMEOUT_S}s'`);
          const t0 = performance.now();
          const res = await db.query(c.sql, c.params);
          row[schema] = { ms: performance.now() - t0, rows: res.rowCount };
        } catch (err) {
          row[schema] = { ms: null, error: err.code === '57014' ? `> ${DELETE_TIMEOUT_S} s (cancelled)` : err.message };
        } finally {
          await db.query('ROLLBACK');
        }
      }
      log(`delete ${c.name}: ${row.migrated.ms?.toFixed(0) ?? row.migrated.error} ms; before: ${row.before.ms?.toFixed(0) ?? row.before.error} ms`);
      results.push(row);
    }
    return { codes, cases: results };
  });
}

// ---- run ----------------------------------------------------------------------------------------------------
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 2);
if (!(await portFree(PORT + 1))) {
  console.error(`port ${PORT + 1} is in use (the empty database's server uses BENCH_PORT + 1)`);
  process.exit(1);
}
const started = new Date();
let dbName = `latchkey_scale_${Date.now().toString(36)}`;
const databases = [];
const out = { started: started.toISOString(), scale: SCALE, counts: COUNTS, levels: LEVELS, modes: MODES,
  duration_s: Number(DURATION), rounds: ROUNDS, before: [], runs: [] };
let exitCode = 0;
try {
  let A;
  if (REUSE) {
    const names = await withClient(serverUrl, async (c) => (await c.query(
      "SELECT datname FROM pg_database WHERE datname LIKE 'latchkey_scale_%' ORDER BY datname")).rows.map((r) => r.datname));
    const loadedName = names.find((n) => !n.endsWith('_empty'));
    if (!loadedName) throw new Error(`no loaded database in the cluster at ${REUSE}`);
    const url = new URL(serverUrl);
    url.pathname = `/${loadedName}`;
    A = target('loaded', url.href, PORT);
    targets.push(A);
    for (const n of names.filter((x) => x.endsWith('_empty'))) await dropDatabase(n);
    dbName = loadedName;
  } else {
    // 1. empty tables: the database that is loaded next, as it starts
    databases.push(dbName);
    A = target('loaded', await createDatabase(dbName), PORT);
    targets.push(A);
    log(`empty tables (${dbName}) …`);
    await startTarget(A);
    for (const mode of MODES) for (const c of LEVELS) out.before.push(await measure(A, 'empty (before the load)', mode, c));
    await stopTarget(A);

    // 2. the load, and the report at that size
    log(`loading (BENCH_SCALE=${SCALE}) …`);
    const app = await auditApp(A.url, A.dataDir);
    try {
      out.load = await load(A.url, app);
      log(`load: ${out.load.total_s.toFixed(0)} s in all`);
      out.sizes = await tableSizes(A.url);
      log('security report at this size …');
      out.report = await timeReports(app, A.url);
      log(`report: 24 h ${out.report.day.median_ms.toFixed(0)} ms, 30 days ${out.report.month.median_ms.toFixed(0)} ms`);
    } finally {
      await app.close();
    }
  }

  // 3. loaded vs empty, interleaved: the loaded database and a fresh empty one, each with its own server (both
  //    started, one driven at a time), alternating run by run so that both see the same machine
  databases.push(`${dbName}_empty`);
  const B = target('empty', await createDatabase(`${dbName}_empty`), PORT + 1);
  targets.push(B);
  log('loaded vs empty, interleaved …');
  await startTarget(A);
  await startTarget(B);
  let k = 0;
  for (let round = 1; round <= ROUNDS; round++)
    for (const mode of MODES)
      for (const c of LEVELS)
        for (const t of k++ % 2 ? [B, A] : [A, B]) out.runs.push({ round, ...(await measure(t, t.label, mode, c)) });
  await stopTarget(B);
  await stopTarget(A);

  // 4. PostgreSQL's own cost per operation, one connection, alternating
  log(`PostgreSQL's cost per operation (${COST_ROUNDS} rounds of ${COST_SECONDS} s per mode and database) …`);
  out.cost = await statementCost([A, B]);

  // 5. the plans
  log('EXPLAIN of the hot statements …');
  out.explain = await explainAll(A.url);
  out.explain_control = out.explain.control;

  // 6. deleting clients, users and grants at this size
  log('deleting at this size (inside BEGIN … ROLLBACK) …');
  out.deletions = await deletionTimes(A.url);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  for (const t of targets) {
    await stopTarget(t).catch(() => undefined);
    rmSync(t.dataDir, { recursive: true, force: true });
  }
  if (KEEP || REUSE) {
    log(`kept: the cluster in ${cluster.dir} (${serverUrl}); again without reloading: BENCH_SCALE_REUSE=${cluster.dir}; ` +
      `stop it: source scripts/pg-cluster.sh; PG_CLUSTER_DIR=${cluster.dir} pg_cluster_stop`);
    cluster.detach();
  } else {
    for (const name of databases) await dropDatabase(name).catch(() => undefined);
    cluster.stop();
  }
}
out.finished = new Date().toISOString();
if (out.runs.length) writeReport(out);
process.exit(exitCode);

// ---- report -------------------------------------------------------------------------------------------------
function writeReport(o) {
  const fmt = (n, d = 0) => (typeof n === 'number' && Number.isFinite(n) ? n.toFixed(d) : '–');
  const mib = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  const median = (xs) => {
    const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
    if (!v.length) return undefined;
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const runsOf = (pass, mode, c) => o.runs.filter((x) => x.pass === pass && x.mode === mode && x.c === c);
  const before = (mode, c) => o.before.find((x) => x.mode === mode && x.c === c);
  const list = (xs, f, d) => xs.map((x) => fmt(f(x), d)).join(', ');
  const lines = [];
  const verdicts = [];
  lines.push('| mode | users | ops/s: empty → loaded (each run) | ratio (goal ≥ 0.90) | CPU ms/op: empty → loaded (each run) | ratio (goal ≤ 1.10) | p99 ms: empty → loaded | WAL bytes/op: empty → loaded | blocks read/op: empty → loaded | before the load: ops/s, CPU ms/op | verdict |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const mode of o.modes) {
    for (const c of o.levels) {
      const e = runsOf('empty', mode, c);
      const l = runsOf('loaded', mode, c);
      const b = before(mode, c);
      const med = (xs, f) => median(xs.map(f));
      const [eOps, lOps] = [med(e, (x) => x.r.ops_per_s), med(l, (x) => x.r.ops_per_s)];
      const [eCpu, lCpu] = [med(e, (x) => x.cpuMsPerOp), med(l, (x) => x.cpuMsPerOp)];
      const opsRatio = eOps && lOps ? lOps / eOps : undefined;
      const cpuRatio = eCpu && lCpu ? lCpu / eCpu : undefined;
      const p99 = (x) => x.r.latency_ms?.[mode]?.p99;
      const errors = [...e, ...l].reduce((a, x) => a + (x.r.error_total ?? (x.r.error ? 1 : 0)), 0);
      const ok = opsRatio !== undefined && cpuRatio !== undefined && opsRatio >= 0.9 && cpuRatio <= 1.1 && errors === 0;
      verdicts.push({ mode, c, opsRatio, cpuRatio, ok });
      lines.push(`| ${mode} | ${c} | ${fmt(eOps)} (${list(e, (x) => x.r.ops_per_s)}) → ${fmt(lOps)} (${list(l, (x) => x.r.ops_per_s)}) | ${fmt(opsRatio, 2)} | ` +
        `${fmt(eCpu, 2)} (${list(e, (x) => x.cpuMsPerOp, 2)}) → ${fmt(lCpu, 2)} (${list(l, (x) => x.cpuMsPerOp, 2)}) | ${fmt(cpuRatio, 2)} | ` +
        `${fmt(med(e, p99), 1)} → ${fmt(med(l, p99), 1)} | ${fmt(med(e, (x) => x.walBytesPerOp))} → ${fmt(med(l, (x) => x.walBytesPerOp))} | ` +
        `${fmt(med(e, (x) => x.blocksReadPerOp), 2)} → ${fmt(med(l, (x) => x.blocksReadPerOp), 2)} | ${fmt(b?.r.ops_per_s)}, ${fmt(b?.cpuMsPerOp, 2)} | ` +
        `${ok ? 'met' : `**not met**${errors ? ` (${errors} errors)` : ''}`} |`);
    }
  }
  const costRows = ['| mode | PostgreSQL CPU µs/op: empty → loaded (each round) | ratio | WAL bytes/op: empty → loaded | ratio | wall µs/op: empty → loaded |', '|---|---|---|---|---|---|'];
  for (const mode of o.modes) {
    const of = (db) => (o.cost ?? []).filter((x) => x.db === db && x.mode === mode);
    const [e, l] = [of('empty'), of('loaded')];
    if (!e.length || !l.length) continue;
    const m = (xs, f) => median(xs.map(f));
    const [ec, lc, ew, lw] = [m(e, (x) => x.cpu_us), m(l, (x) => x.cpu_us), m(e, (x) => x.wal_bytes), m(l, (x) => x.wal_bytes)];
    costRows.push(`| ${mode} | ${fmt(ec)} (${list(e, (x) => x.cpu_us)}) → ${fmt(lc)} (${list(l, (x) => x.cpu_us)}) | ${ec && lc ? fmt(lc / ec, 2) : '–'} | ` +
      `${fmt(ew)} → ${fmt(lw)} | ${fmt(lw / ew, 2)} | ${fmt(m(e, (x) => x.wall_us))} → ${fmt(m(l, (x) => x.wall_us))} |`);
  }
  const runRows = ['| pass | round | mode | users | ops/s | p50 / p95 / p99 ms | server CPU % | PostgreSQL CPU % | CPU ms/op | WAL bytes/op | FPI/op | blocks read / hit per op | others\' CPU % | load average | errors |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const x of [...o.before, ...o.runs]) {
    const lat = x.r.latency_ms?.[x.mode] ?? {};
    runRows.push(`| ${x.pass} | ${x.round ?? ''} | ${x.mode} | ${x.c} | ${fmt(x.r.ops_per_s)} | ${fmt(lat.p50, 1)} / ${fmt(lat.p95, 1)} / ${fmt(lat.p99, 1)} | ` +
      `${fmt(x.r.cpu_pct_of_one_core?.server)} | ${fmt(x.pgPct)} | ${fmt(x.cpuMsPerOp, 2)} | ${fmt(x.walBytesPerOp)} | ${fmt(x.fpiPerOp, 2)} | ` +
      `${fmt(x.blocksReadPerOp, 2)} / ${fmt(x.blocksHitPerOp, 1)} | ${fmt(x.othersPct)} | ${x.loadavg} | ${x.r.error_total ?? x.r.error ?? 0} |`);
  }
  mkdirSync(join(ROOT, 'bench', 'out'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'out', `scale-${o.started.replace(/[:.]/g, '-')}.json`), JSON.stringify(o, null, 1));
  if (!o.load) {
    // BENCH_SCALE_REUSE: only the comparison (and the plans) again; bench/SCALE-*.md stay those of a full run
    console.log(`${lines.join('\n')}\n\n${costRows.join('\n')}\n\n${runRows.join('\n')}`);
    for (const e of o.explain ?? []) console.log(`${e.verdict} ${e.name}: ${e.indexes.join(', ')}`);
    log(`wrote bench/out/scale-${o.started.replace(/[:.]/g, '-')}.json`);
    return;
  }
  const loadRows = ['| step | rows | seconds |', '|---|---|---|'];
  for (const st of o.load.steps) loadRows.push(`| ${st.name} | ${st.rows === undefined || st.rows === null ? '' : Number(st.rows).toLocaleString('en')} | ${st.seconds.toFixed(1)} |`);
  loadRows.push(`| **total** | | **${o.load.total_s.toFixed(0)}** (${(o.load.total_s / 60).toFixed(1)} min) |`);
  const sizeRows = ['| table | rows | size (heap + indexes) |', '|---|---|---|'];
  for (const [t, v] of Object.entries(o.sizes)) if (typeof v === 'object') sizeRows.push(`| ${t}${v.partitions ? ` (${v.partitions} partitions)` : ''} | ${v.rows.toLocaleString('en')} | ${mib(v.bytes)} |`);
  sizeRows.push(`| database | | ${mib(o.sizes.database_bytes)} |`);
  const explainRows = ['| path | statement | verdict | indexes used (custom and generic plan) | Seq Scans | execution ms (custom / generic) |', '|---|---|---|---|---|---|'];
  for (const e of o.explain ?? []) {
    explainRows.push(`| ${e.path} | ${e.name} | ${e.verdict === 'PASS' ? 'PASS' : '**FAIL**'} | ${e.indexes.join(', ') || '– (insert: reads no table)'} | ` +
      `${e.seq_scans.map((x) => `${x.relation} (${x.rows.toLocaleString('en')} rows, ${x.mode})`).join(', ') || '–'} | ${fmt(e.execution_ms.custom, 3)} / ${fmt(e.execution_ms.generic, 3)} |`);
  }
  const rep = o.report;
  const reportRows = ['| window | events in the window | median (ms) | min–max (ms) | runs | findings | goal |', '|---|---|---|---|---|---|---|',
    `| last 24 hours | ${rep.day.events.toLocaleString('en')} | ${fmt(rep.day.median_ms)} | ${fmt(rep.day.min_ms)}–${fmt(rep.day.max_ms)} | ${rep.day.runs} | ${rep.day.findings} | < 200 ms: ${rep.day.median_ms < 200 ? 'met' : '**not met**'} |`,
    `| last 30 days | ${rep.month.events.toLocaleString('en')} | ${fmt(rep.month.median_ms)} | ${fmt(rep.month.min_ms)}–${fmt(rep.month.max_ms)} | ${rep.month.runs} | ${rep.month.findings} | < 1 s: ${rep.month.median_ms < 1000 ? 'met' : '**not met**'} |`];
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const failed = (o.explain ?? []).filter((e) => e.verdict !== 'PASS').length;
  const md = `# Steady state at scale (\`npm run bench:scale\`)

Produced by \`npm run bench:scale\` (BENCH_SCALE=${o.scale}) from ${o.started} to ${o.finished} — ${machine}.
PostgreSQL 15 (${ownCluster ? 'throwaway cluster, scripts/pg-cluster.sh' : 'DATABASE_URL'}); Latchkey with NODE_ENV=production,
DATABASE_POOL_SIZE ${process.env.DATABASE_POOL_SIZE ?? '16'}, every audit event persisted, rate limits raised to 10⁸/min;
harness ../shared/bench/flow-bench.mjs, ${o.duration_s} s per run after a 2 s warm-up (and one discarded 5 s flow run
after each server start).

**How empty and loaded are compared.** The loaded database and a fresh empty one each have a Latchkey process;
runs alternate between them (${o.rounds} rounds, the order swapped from one run to the next), so both see the same
machine. "empty" and "loaded" are medians of those runs; "before the load" is the first, sequential run on the
database that was then loaded (the issue's order: empty, load, loaded), shown for reference. "CPU ms/op" is the
server's CPU (the harness's measurement) plus PostgreSQL's (${ownCluster ? 'this cluster\'s processes only' : 'every postgres process on the machine'})
over the same window, per operation. "WAL bytes/op" (exact, from pg_current_wal_lsn) and "blocks read/op" (shared
buffers missed, from pg_stat_database: flushed about once a second) describe PostgreSQL's work independently of
the machine's load. "others' CPU %" is what the rest of the machine used meanwhile (machine − harness − server −
PostgreSQL, in % of one core): other benchmarks on the same 2 cores.

## Empty vs loaded

${lines.join('\n')}

${verdicts.every((v) => v.ok) ? 'Every mode and level meets both goals.' : `Goals not met in this run: ${verdicts.filter((v) => !v.ok).map((v) => `${v.mode} at ${v.c}`).join(', ')}.`}

PostgreSQL's own cost per operation: each mode's statements (the repositories' SQL, as the server's named prepared
statements) in a loop on one connection, ${o.cost?.length ? `${Math.max(...o.cost.map((x) => x.round))} rounds` : ''} of ${COST_SECONDS} s per mode and
database, the two databases alternating; the backend's CPU time and the WAL per operation, no HTTP and no concurrency
(synchronous_commit off for that connection). The steady measure on this machine:

${costRows.join('\n')}

Every harness run:

${runRows.join('\n')}

## The load (${o.counts.users.toLocaleString('en')} users, ${o.counts.clients.toLocaleString('en')} clients, ${o.counts.grants.toLocaleString('en')} grants, ${o.counts.events.toLocaleString('en')} audit events)

${loadRows.join('\n')}

After the load (and the first run's own rows):

${sizeRows.join('\n')}

## EXPLAIN (ANALYZE, BUFFERS) of the hot statements

The repositories' own SQL and parameters (captured from the built code), real values from the loaded rows; each
planned as a custom plan and as the generic plan a prepared statement settles on; statements that write ran
inside BEGIN … ROLLBACK. FAIL = a Seq Scan on a table of more than ${SEQ_ROWS.toLocaleString('en')} rows.
**${(o.explain ?? []).length - failed} of ${(o.explain ?? []).length} PASS.** The plans: [SCALE-PLANS.md](SCALE-PLANS.md).${o.explain_control ? ` The check's control,
\`SELECT id FROM grants WHERE scope = $1\` (no index serves it), is flagged as it must be: ${[...new Set(o.explain_control.seq_scans.map((x) => `Seq Scan on ${x.relation} (${x.rows.toLocaleString('en')} rows)`))].join(', ')}.` : ''}

${explainRows.join('\n')}

${o.deletions ? `## Deleting at this size

Each statement inside BEGIN … ROLLBACK on the loaded database (its cascades included), with the schema as migrated
and as it was before migration GrantDeletionIndexes (re-created in the same transaction: the foreign key from
authorization_codes.grant_id, partial indexes on grants by client and by user, no index on consents by client);
statement timeout ${DELETE_TIMEOUT_S} s. ${o.deletions.codes.toLocaleString('en')} authorization codes in the table.

| deletion | rows | ms as migrated | ms before GrantDeletionIndexes |
|---|---|---|---|
${o.deletions.cases.map((c) => `| ${c.name} | ${c.migrated.rows ?? ''} | ${c.migrated.ms === null ? c.migrated.error : fmt(c.migrated.ms, 1)} | ${c.before.ms === null ? c.before.error : fmt(c.before.ms, 1)} |`).join('\n')}

` : ''}## The security report at this size

The report service's own SQL (SecurityReportService.generate) right after the load, median after one warm-up run:

${reportRows.join('\n')}

Rules with findings: 24 h ${rep.day.rules.join(', ') || '–'}; 30 days ${rep.month.rules.join(', ') || '–'}.

Raw results (one JSON line per run):

\`\`\`
${[...o.before, ...o.runs].map((x) => JSON.stringify({ pass: x.pass, round: x.round, mode: x.mode, c: x.c, loadavg: x.loadavg,
    pg_cpu_pct: x.pgPct, cpu_ms_per_op: x.cpuMsPerOp, wal_bytes_per_op: x.walBytesPerOp, fpi_per_op: x.fpiPerOp,
    blocks_read_per_op: x.blocksReadPerOp, blocks_hit_per_op: x.blocksHitPerOp, ...x.r })).join('\n')}
\`\`\`
`;
  writeFileSync(join(ROOT, 'bench', 'SCALE-RESULTS.md'), md);
  const plans = [`# Plans of the hot statements at scale (\`npm run bench:scale\`, ${o.started})\n`];
  for (const e of o.explain ?? []) {
    plans.push(`## ${e.verdict}: ${e.name} (${e.path})\n\n\`\`\`sql\n${e.sql.trim()}\n\`\`\`\n\nParameters: \`${JSON.stringify(e.params).slice(0, 600)}\`\n`);
    for (const mode of ['custom', 'generic']) plans.push(`${mode} plan:\n\n\`\`\`\n${e.plans[mode].text}\n\`\`\`\n`);
  }
  if (o.explain) writeFileSync(join(ROOT, 'bench', 'SCALE-PLANS.md'), plans.join('\n'));
  console.log(lines.join('\n'));
  console.log(`\n${costRows.join('\n')}`);
  console.log(`\n${explainRows.join('\n')}\n\n${reportRows.join('\n')}\n\n${loadRows.join('\n')}`);
  log('wrote bench/SCALE-RESULTS.md and bench/SCALE-PLANS.md');
}
