#!/usr/bin/env node
// `npm run bench:audit`: the audit trail at scale (issue 6). On PostgreSQL (a throwaway 15 cluster, or the
// server in DATABASE_URL — a fresh database is created on it and dropped afterwards) and on PGlite (files in a
// temporary directory), it:
//   1. creates the daily partitions, seeds BENCH_AUDIT_EVENTS (default 1,000,000) events over BENCH_AUDIT_DAYS
//      (default 30) days with INSERT … SELECT generate_series (a realistic mix: ~86 % successes, failures of
//      every kind) plus attacks
//      (a failure burst, verifier mismatches, code replay, refresh reuse, enumeration, brute force, secret
//      guessing, PKCE downgrade, a constant challenge) — in the last day and twelve days earlier;
//   2. rolls up the closed days (as the server's hourly maintenance does), then times the security report
//      over the last 24 hours and over 30 days (the service's own SQL; median of several runs after one
//      warm-up);
//   3. measures the group-commit writer (events/s and latency with 64 concurrent callers);
//   4. purges all but the last day (audit:purge --older-than 1d) while 32 callers keep inserting, and reports
//      the insert latency during the purge next to the latency before it.
//   5. (PostgreSQL, when the flow harness ../shared/bench/flow-bench.mjs is there) the cost of the audit trail
//      to the token flow: the authorization code + PKCE flow with every event persisted, then with the audit
//      listener removed (bench/audit-listener-off.cjs), same server, same database.
// Goals on PostgreSQL: 24-hour report < 200 ms, 30-day report < 1 s, inserts not blocked by the purge, and
// audit writing costing the token flow < 15 % of its throughput.
// Options (env): BENCH_AUDIT_EVENTS, BENCH_AUDIT_DAYS (30: the span the events cover, ending now; the reports
//   are always over the last 24 h and the last 30 days, so 10,000,000 over 90 days is production size),
//   BENCH_AUDIT_TARGETS="postgres pglite", BENCH_AUDIT_FLOW=1|0, BENCH_AUDIT_FLOW_CONCURRENCY (16),
//   BENCH_AUDIT_FLOW_DURATION (10 s), BENCH_HARNESS_DIR, DATABASE_URL.
//   To compare the reports of two builds on the same data: BENCH_AUDIT_SEED (a number: the seeding's random()
//   is seeded, chunk by chunk) with BENCH_AUDIT_NOW (an ISO time: the end of the seeded span and of the
//   reports' windows) seed identical rows on a fresh database, and BENCH_AUDIT_REPORT_JSON=<file> writes the
//   24-hour and 30-day reports there (one object per target). BENCH_AUDIT_KEEP=1 (PostgreSQL): stop after the
//   reports (the writer and the purge change the data) and keep the seeded database, for query experiments.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'package.json'));
const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const DAYS = Number(process.env.BENCH_AUDIT_DAYS ?? 30);
if (!(DAYS >= 13)) throw new Error('BENCH_AUDIT_DAYS must be at least 13 (attacks are planted 12 days back)');
const SEED = process.env.BENCH_AUDIT_SEED === undefined ? null : Number(process.env.BENCH_AUDIT_SEED);
const NOW = process.env.BENCH_AUDIT_NOW ? new Date(process.env.BENCH_AUDIT_NOW) : null;
if (NOW && Number.isNaN(NOW.getTime())) throw new Error('BENCH_AUDIT_NOW must be an ISO date-time');
const REPORT_JSON = process.env.BENCH_AUDIT_REPORT_JSON;
const KEEP = process.env.BENCH_AUDIT_KEEP === '1';
const TARGETS = (process.env.BENCH_AUDIT_TARGETS ?? 'postgres pglite').split(/\s+/).filter(Boolean);
const DAY = 86_400_000;
const HARNESS = resolve(process.env.BENCH_HARNESS_DIR ?? join(ROOT, '..', 'shared', 'bench'));
const WITH_FLOW = process.env.BENCH_AUDIT_FLOW !== '0' && existsSync(join(HARNESS, 'flow-bench.mjs'));
const FLOW_CONCURRENCY = process.env.BENCH_AUDIT_FLOW_CONCURRENCY ?? '16';
const FLOW_DURATION = process.env.BENCH_AUDIT_FLOW_DURATION ?? '10';
const log = (...a) => console.error('[bench:audit]', ...a);

// ---- build (only when dist is missing or older than the sources) -------------------------------------
function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, name.name);
    t = Math.max(t, name.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
const built = join(ROOT, 'dist/src/audit/security-report.service.js');
if (!existsSync(built) || statSync(built).mtimeMs < newest(join(ROOT, 'src'))) {
  log('building dist/ …');
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
}

require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { DataSource } = require('typeorm');
const pg = require('pg');
const dist = (p) => require(join(ROOT, 'dist/src', p));
const { ConfigModule } = require('@nestjs/config');
const { EventEmitterModule } = require('@nestjs/event-emitter');
const { DatabaseModule } = dist('database/database.module.js');
const { EventsModule } = dist('events/events.module.js');
const { AuditModule } = dist('audit/audit.module.js');
const { ALL_NAMESPACES, setEnvironment } = dist('config/config.namespaces.js');
const { loadEnvironment } = dist('config/environment.js');
const { SecurityReportService } = dist('audit/security-report.service.js');
const { AuditRetentionService } = dist('audit/audit-retention.service.js');
const { AuditWriter } = dist('audit/audit-writer.js');

// ---- PostgreSQL cluster -----------------------------------------------------------------------------
let cluster = null;
const bash = (script) =>
  execFileSync('bash', ['-c', `source "${ROOT}/scripts/pg-cluster.sh"; ${script}`], { encoding: 'utf8' });
function stopCluster() {
  if (cluster) bash(`PG_CLUSTER_DIR="${cluster.dir}" pg_cluster_stop`);
  cluster = null;
}
process.on('exit', () => {
  try {
    stopCluster();
  } catch {}
});
process.on('SIGINT', () => process.exit(130));

async function postgresServer() {
  let server = process.env.DATABASE_URL;
  if (!server || !/^postgres(ql)?:/.test(server)) {
    if (!cluster) {
      const out = bash('pg_cluster_start >&2 && echo "$PG_CLUSTER_URL|$PG_CLUSTER_DIR"');
      const [url, dir] = out.trim().split('\n').pop().split('|');
      cluster = { url, dir };
    }
    server = cluster.url;
  }
  return server;
}

async function postgresUrl() {
  const server = await postgresServer();
  const name = `latchkey_bench_audit_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

// ---- the application (configuration, database, audit module; no HTTP) ------------------------------
async function startApp(databaseUrl, dataDir) {
  setEnvironment(
    loadEnvironment({
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url'),
      SESSION_SECRET: Buffer.alloc(32, 4).toString('base64url'),
      LOG_LEVEL: 'silent',
      DATABASE_POOL_SIZE: '10',
    }),
  );
  class AuditBenchModule {}
  // the app's infrastructure (as in AppModule) and the audit module only: no HTTP, no other feature
  Module({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: ALL_NAMESPACES }),
      EventEmitterModule.forRoot({ wildcard: false }),
      DatabaseModule,
      EventsModule,
      AuditModule,
    ],
  })(AuditBenchModule);
  const app = await NestFactory.createApplicationContext(AuditBenchModule, { logger: ['error', 'warn'] });
  setEnvironment(undefined);
  return app;
}

// ---- seeding ----------------------------------------------------------------------------------------
/** The normal mix, in per-mille of events: [type, outcome, error_code, reason]. */
const MIX = [
  [350, 'token.issued', 'success', null, null],
  [120, 'authorization.requested', 'success', null, null],
  [110, 'authorization_code.issued', 'success', null, null],
  [30, 'consent.granted', 'success', null, null],
  [80, 'login.succeeded', 'success', null, null],
  [120, 'token.introspected', 'success', null, null],
  [20, 'token.revoked', 'success', null, null],
  [10, 'session.ended', 'success', null, null],
  [58, 'token.request_failed', 'failure', 'invalid_grant', 'code_expired'],
  [20, 'token.request_failed', 'failure', 'invalid_request', 'invalid_request'],
  [40, 'login.failed', 'failure', null, 'invalid_credentials'],
  [20, 'authorization.rejected', 'failure', null, 'invalid_scope'],
  [8, 'authorization.rejected', 'failure', null, 'unknown_client'],
  [1, 'client.authentication_failed', 'failure', 'invalid_client', 'bad_secret'],
  [12, 'api.access_denied', 'failure', 'invalid_token', 'invalid_token'],
  [1, 'token.request_failed', 'failure', 'invalid_grant', 'pkce_verifier_mismatch'],
];
const q = (v) => (v === null ? 'NULL' : `'${v}'`);
const MIX_VALUES = (() => {
  let lo = 0;
  return MIX.map(([n, type, outcome, code, reason]) => {
    const row = `(${lo}, ${lo + n}, '${type}', '${outcome}', ${q(code)}, ${q(reason)})`;
    lo += n;
    return row;
  }).join(',\n');
})();

/** Events first..last of `total`, spread evenly over [start, start + `days` days) with jitter. */
function seedSql(first, last, total, start, days) {
  return `
    WITH mix(lo, hi, type, outcome, error_code, reason) AS (VALUES ${MIX_VALUES}),
    g AS (
      SELECT i,
             '${start.toISOString()}'::timestamptz + ((i + random()) / ${total}) * interval '${days} days' AS at,
             floor(random() * 1000)::int AS k,
             floor(random() * 200)::int AS c,
             floor(random() * 20000)::int AS h,
             floor(random() * 50000)::int AS u
        FROM generate_series(${first}, ${last}) AS i)
    INSERT INTO audit_events (occurred_at, type, outcome, error_code, reason, client_id, subject, ip,
                              user_agent, duration_ms, request_id, details, request_first, request_first_failure)
    SELECT g.at, mix.type, mix.outcome, mix.error_code, mix.reason,
           CASE WHEN mix.reason = 'unknown_client' THEN 'unknown-' || (g.u % 97) ELSE 'client-' || g.c END,
           CASE WHEN mix.type IN ('token.issued', 'authorization_code.issued', 'consent.granted',
                                  'login.succeeded', 'session.ended', 'login.failed')
                THEN 'user-' || g.u END,
           ('10.' || (g.h / 250) || '.' || (g.h % 250) || '.7')::inet,
           'Mozilla/5.0 (bench) client-' || g.c,
           (g.k % 40) + 1,
           md5(g.i::text),
           CASE WHEN mix.type = 'authorization_code.issued'
                THEN jsonb_build_object('scope', 'api:read', 'challenge_sha256', md5(g.i::text) || md5((g.i + 1)::text))
                WHEN mix.reason IS NOT NULL
                THEN jsonb_build_object('reason', mix.reason, 'grant_type', 'authorization_code')
                ELSE jsonb_build_object('scope', 'api:read') END,
           true, mix.outcome = 'failure'
      FROM g JOIN mix ON g.k >= mix.lo AND g.k < mix.hi`;
}

/** Attacks: n events of one kind at `at` + i × stepSeconds. */
function attackSql(
  at,
  n,
  stepSeconds,
  type,
  reason,
  clientExpr,
  subjectExpr,
  ipExpr,
  details = "'{}'::jsonb",
) {
  return `
    INSERT INTO audit_events (occurred_at, type, outcome, error_code, reason, client_id, subject, ip,
                              user_agent, duration_ms, request_id, details, request_first, request_first_failure)
    SELECT '${at.toISOString()}'::timestamptz + i * interval '${stepSeconds} seconds', '${type}',
           ${type === 'authorization_code.issued' ? "'success'" : "'failure'"}, NULL, ${q(reason)},
           ${clientExpr}, ${subjectExpr}, (${ipExpr})::inet, 'attack-tool/1.0', 3, md5('attack' || random()::text),
           ${details} || ${reason ? `jsonb_build_object('reason', '${reason}')` : "'{}'::jsonb"},
           true, ${type === 'authorization_code.issued' ? 'false' : 'true'}
      FROM generate_series(0, ${n - 1}) AS i`;
}

function attacks(at) {
  return [
    attackSql(at, 60, 3, 'token.request_failed', 'invalid_request', "'client-7'", 'NULL', "'203.0.113.66'"),
    attackSql(
      at,
      6,
      30,
      'token.request_failed',
      'pkce_verifier_mismatch',
      "'client-9'",
      'NULL',
      "'198.51.100.' || (1 + i)",
    ),
    attackSql(at, 2, 60, 'token.request_failed', 'code_replayed', "'client-11'", 'NULL', "'192.0.2.30'"),
    attackSql(at, 1, 60, 'token.request_failed', 'refresh_reused', "'client-12'", 'NULL', "'192.0.2.31'"),
    attackSql(
      at,
      5,
      20,
      'authorization.rejected',
      'redirect_uri_mismatch',
      "'client-13'",
      'NULL',
      "'192.0.2.40'",
    ),
    attackSql(
      at,
      30,
      2,
      'client.authentication_failed',
      'unknown_client',
      "'guess-' || i",
      'NULL',
      "'198.51.100.99'",
    ),
    attackSql(
      at,
      3,
      60,
      'authorization.rejected',
      'pkce_plain_rejected',
      "'client-14'",
      'NULL',
      "'192.0.2.50'",
    ),
    attackSql(
      at,
      25,
      10,
      'login.failed',
      'invalid_credentials',
      'NULL',
      "'user-42'",
      "'192.0.2.' || (60 + i)",
    ),
    attackSql(at, 40, 5, 'login.failed', 'invalid_credentials', 'NULL', "'sprayed-' || i", "'203.0.113.77'"),
    attackSql(
      at,
      20,
      15,
      'client.authentication_failed',
      'bad_secret',
      "'client-15'",
      'NULL',
      "'192.0.2.' || (80 + i % 5)",
    ),
    attackSql(
      at,
      4,
      120,
      'authorization_code.issued',
      null,
      "'client-16'",
      "'user-7'",
      "'10.9.9.9'",
      `jsonb_build_object('scope', 'api:read', 'challenge_sha256', md5('constant') || md5('challenge'))`,
    ),
  ];
}

// ---- measurements -----------------------------------------------------------------------------------
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

async function timeReport(reports, window, runs) {
  await reports.generate(window); // warm-up
  const times = [];
  let report;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    report = await reports.generate(window);
    times.push(ms(t0));
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times), report };
}

function benchRow(i) {
  return {
    occurredAt: new Date(),
    type: 'token.issued',
    outcome: 'success',
    errorCode: null,
    reason: null,
    clientId: `client-${i % 200}`,
    subject: `user-${i % 50000}`,
    ip: `10.1.${i % 250}.7`,
    userAgent: 'bench',
    durationMs: 2,
    requestId: `bench-${i}`,
    details: { grant_type: 'authorization_code', scope: 'api:read' },
  };
}

/** `callers` loops writing one event at a time until `until()`; returns per-write latencies (ms). */
async function insertLoad(writer, callers, until) {
  const latencies = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (!until()) {
        const t0 = process.hrtime.bigint();
        await writer.write(benchRow(n++));
        latencies.push(ms(t0));
      }
    }),
  );
  return latencies;
}

async function runTarget(kind) {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-audit-'));
  let db = null;
  let url;
  if (kind === 'postgres') {
    db = await postgresUrl();
    url = db.url;
  } else {
    url = `pglite://${join(dataDir, 'pglite')}`;
  }
  const result = {
    target: kind === 'postgres' ? 'PostgreSQL 15' : 'PGlite (embedded)',
    events: EVENTS,
    days: DAYS,
  };
  const app = await startApp(url, dataDir);
  try {
    const dataSource = app.get(DataSource);
    const reports = app.get(SecurityReportService);
    const retention = app.get(AuditRetentionService);
    const writer = app.get(AuditWriter);
    if (kind === 'postgres')
      result.server = (await dataSource.query('SHOW server_version'))[0].server_version;

    const now = NOW ?? new Date();
    const start = new Date(now.getTime() - DAYS * DAY);
    await retention.ensureRange(new Date(start.getTime() - DAY), new Date(now.getTime() + 7 * DAY));

    log(`${kind}: seeding ${EVENTS.toLocaleString('en')} events over ${DAYS} days …`);
    let t0 = process.hrtime.bigint();
    // with BENCH_AUDIT_SEED, each statement runs in a transaction (one session) after setseed(): same rows
    let statement = 0;
    const seeded = (sql) =>
      SEED === null
        ? dataSource.query(sql)
        : dataSource.transaction(async (m) => {
            const s = ((SEED * 7919 + statement++ * 104729) % 1_000_003) / 1_000_003; // in [0, 1)
            await m.query('SELECT setseed($1)', [s * 2 - 1]);
            await m.query(sql);
          });
    const chunk = 100_000;
    for (let first = 1; first <= EVENTS; first += chunk) {
      await seeded(seedSql(first, Math.min(EVENTS, first + chunk - 1), EVENTS, start, DAYS));
    }
    for (const at of [new Date(now.getTime() - 3 * 3600_000), new Date(now.getTime() - 12 * DAY)])
      for (const sql of attacks(at)) await seeded(sql);
    result.seed_s = ms(t0) / 1000;
    t0 = process.hrtime.bigint();
    // a long-lived table is vacuumed by autovacuum (visibility map: index-only scans); do it now
    // (on PostgreSQL through a connection of its own: the pool's 15 s query timeout is too short at 10 M rows)
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query('VACUUM (ANALYZE) audit_events').finally(() => c.end());
    } else await dataSource.query('VACUUM (ANALYZE) audit_events');
    result.analyze_s = ms(t0) / 1000;
    // as the server's hourly maintenance does: roll up the closed days (AuditRetentionService.rollUp)
    t0 = process.hrtime.bigint();
    result.rollup_days = (await retention.rollUp()).length;
    result.rollup_s = ms(t0) / 1000;
    result.rows = Number((await dataSource.query('SELECT count(*)::int AS n FROM audit_events'))[0].n);
    log(
      `${kind}: ${result.rows.toLocaleString('en')} rows in ${result.seed_s.toFixed(1)} s; timing reports …`,
    );

    const day = await timeReport(reports, { from: new Date(now.getTime() - DAY), to: now }, 5);
    const month = await timeReport(reports, { from: new Date(now.getTime() - 30 * DAY), to: now }, 3);
    result.report_24h_ms = day.median;
    result.report_24h_min_ms = day.min;
    result.report_24h_events = Object.values(day.report.by_type).reduce((a, b) => a + b, 0);
    result.report_24h_findings = day.report.findings.length;
    result.report_24h_rules = [...new Set(day.report.findings.map((f) => f.rule))].sort();
    result.report_30d_ms = month.median;
    result.report_30d_min_ms = month.min;
    result.report_30d_findings = month.report.findings.length;
    if (REPORT_JSON) reportsOut[kind] = { day: day.report, month: month.report };
    if (KEEP && kind === 'postgres') {
      log(`${kind}: kept ${url} (seeded up to ${now.toISOString()})`);
      result.kept = { url, now: now.toISOString() };
      db = null;
      return result;
    }

    log(`${kind}: group-commit writer …`);
    const writeFor = 3000;
    let stopAt = Date.now() + writeFor;
    t0 = process.hrtime.bigint();
    const writes = await insertLoad(writer, 64, () => Date.now() >= stopAt);
    result.writer_events_per_s = writes.length / (ms(t0) / 1000);
    result.writer_p50_ms = pct(writes, 50);
    result.writer_p99_ms = pct(writes, 99);

    log(`${kind}: purge of all but the last day while inserts continue …`);
    stopAt = Date.now() + 1500;
    const before = await insertLoad(writer, 32, () => Date.now() >= stopAt);
    let purging = true;
    const during = insertLoad(writer, 32, () => !purging);
    t0 = process.hrtime.bigint();
    const purge = await retention.purge(86400);
    result.purge_ms = ms(t0);
    purging = false;
    const latencies = await during;
    result.purge_dropped_partitions = purge.dropped_partitions.length;
    result.purge_deleted_rows = purge.deleted_rows;
    result.insert_before_p99_ms = pct(before, 99);
    result.insert_before_max_ms = Math.max(...before);
    result.insert_during_purge_n = latencies.length;
    result.insert_during_purge_p99_ms = latencies.length ? pct(latencies, 99) : null;
    result.insert_during_purge_max_ms = latencies.length ? Math.max(...latencies) : null;
    result.rows_after_purge = Number(
      (await dataSource.query('SELECT count(*)::int AS n FROM audit_events'))[0].n,
    );
  } finally {
    await app.close();
    await db?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
  return result;
}

// ---- the token flow with and without the audit listener (PostgreSQL) -----------------------------------
const FLOW_PORT = 3210;
const FLOW_ISSUER = `http://127.0.0.1:${FLOW_PORT}`;
async function flowRun(databaseUrl, dataDir, listenerOff, setup) {
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(FLOW_PORT),
    HOST: '127.0.0.1',
    ISSUER: FLOW_ISSUER,
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    DATABASE_POOL_SIZE: '16',
    KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url'),
    SESSION_SECRET: Buffer.alloc(32, 4).toString('base64url'),
    LOG_LEVEL: 'warn',
    // one IP and one client drive the whole load: rate limits raised for the run
    RATE_LIMIT_TOKEN: '100000000',
    RATE_LIMIT_AUTHORIZE: '100000000',
  };
  const cli = (args, input) => {
    const out = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli.js'), ...args, '--json'], { env, encoding: 'utf8', input });
    if (out.status !== 0) throw new Error(`cli ${args[0]} failed: ${out.stderr}`);
    return JSON.parse(out.stdout.trim().split('\n').pop());
  };
  const preload = listenerOff ? ['--require', join(ROOT, 'bench/audit-listener-off.cjs')] : [];
  const server = spawn(process.execPath, [...preload, join(ROOT, 'dist/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    let ready = false;
    for (let i = 0; i < 150 && !ready; i++) {
      ready = await fetch(`${FLOW_ISSUER}/health/ready`).then((r) => r.ok, () => false);
      if (!ready) await new Promise((r) => setTimeout(r, 200));
    }
    if (!ready) throw new Error('Latchkey did not become ready');
    if (!setup.clientId) {
      setup.clientId = cli(['client:create', '--name', 'bench', '--auth-method', 'none', '--redirect-uri',
        'http://127.0.0.1:9999/cb', '--grant-types', 'authorization_code,refresh_token', '--scope', 'api:read']).client_id;
      // one user per virtual user: the login lockout admits one sign-in attempt per username at a time
      for (let vu = 0; vu < Number(FLOW_CONCURRENCY); vu++)
        cli(['user:create', '--username', `bench-${vu}`, '--password-stdin'], 'bench-password-1');
    }
    const ticks0 = clusterTicks();
    const out = spawnSync(process.execPath, [join(HARNESS, 'flow-bench.mjs'), '--issuer', FLOW_ISSUER,
      '--client-id', setup.clientId, '--scope', 'api:read', '--username', 'bench-{vu}', '--password', 'bench-password-1',
      '--mode', 'flow', '--concurrency', FLOW_CONCURRENCY, '--duration', FLOW_DURATION, '--server-pid', String(server.pid)],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
    const result = JSON.parse(out.stdout.trim().split('\n').pop());
    // PostgreSQL CPU per flow while the harness ran (logins and warm-up included: an upper bound)
    const flows = result.ops_per_s * (Number(FLOW_DURATION) + 2);
    result.pg_cpu_ms_per_flow = cluster && flows ? ((clusterTicks() - ticks0) * 10) / flows : null;
    return result;
  } finally {
    await new Promise((r) => {
      server.once('exit', r);
      server.kill('SIGTERM');
    });
  }
}

/** CPU ticks (1/100 s) of our throwaway cluster's processes (postmaster and its children); 0 without one. */
function clusterTicks() {
  if (!cluster) return 0;
  let postmaster;
  try {
    postmaster = Number(readFileSync(join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pid) === postmaster)
        ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // + reaped backends
      else if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks;
}

async function flowOverhead() {
  const server = await postgresServer();
  const name = `latchkey_bench_flow_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-flow-'));
  const countEvents = async () => {
    const c = new pg.Client({ connectionString: url.href });
    await c.connect();
    const n = Number((await c.query('SELECT count(*)::int AS n FROM audit_events')).rows[0].n);
    await c.end();
    return n;
  };
  const out = {};
  const setup = {};
  try {
    // listener on, off, on, off (same database, same users): alternating evens out a machine whose load drifts
    for (const [label, off] of [['on1', false], ['off1', true], ['on2', false], ['off2', true]]) {
      log(`token flow, audit listener ${off ? 'off' : 'on'} (${FLOW_CONCURRENCY} users, ${FLOW_DURATION} s) …`);
      const before = setup.clientId ? await countEvents() : 0;
      out[label] = await flowRun(url.href, dataDir, off, setup);
      out[`${label}_events`] = (await countEvents()) - before;
    }
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const on = (out.on1.ops_per_s + out.on2.ops_per_s) / 2;
  const off = (out.off1.ops_per_s + out.off2.ops_per_s) / 2;
  // server CPU per flow (ms), from the harness's measurement of the server process during the timed run
  const serverMs = (r) => (r.cpu_pct_of_one_core?.server ?? 0) * 10 / r.ops_per_s;
  const mean = (a, b) => (a + b) / 2;
  return {
    server_cpu_ms_per_flow_on: mean(serverMs(out.on1), serverMs(out.on2)),
    server_cpu_ms_per_flow_off: mean(serverMs(out.off1), serverMs(out.off2)),
    postgres_cpu_ms_per_flow_on: cluster ? mean(out.on1.pg_cpu_ms_per_flow, out.on2.pg_cpu_ms_per_flow) : null,
    postgres_cpu_ms_per_flow_off: cluster ? mean(out.off1.pg_cpu_ms_per_flow, out.off2.pg_cpu_ms_per_flow) : null,
    flows_per_s_audit_on: on,
    flows_per_s_audit_off: off,
    runs: { on: [out.on1.ops_per_s, out.on2.ops_per_s], off: [out.off1.ops_per_s, out.off2.ops_per_s] },
    audit_cost_pct: ((off - on) / off) * 100,
    flow_p50_ms_on: out.on1.latency_ms?.flow?.p50,
    flow_p50_ms_off: out.off1.latency_ms?.flow?.p50,
    events_stored: out.on2_events,
    events_stored_listener_off: out.off2_events,
    errors: [out.on1.errors, out.off1.errors, out.on2.errors, out.off2.errors],
  };
}

const results = [];
const reportsOut = {};
for (const target of TARGETS) results.push(await runTarget(target));
if (REPORT_JSON) writeFileSync(REPORT_JSON, `${JSON.stringify(reportsOut, null, 2)}\n`);
const flow = WITH_FLOW && TARGETS.includes('postgres') ? await flowOverhead() : null;
stopCluster();

console.log(JSON.stringify({ results, flow }, null, 2));
const line = (label, f) =>
  `| ${label} | ${results
    .map((r) => {
      try {
        return f(r);
      } catch {
        return 'n/a'; // a step not run (BENCH_AUDIT_KEEP)
      }
    })
    .join(' | ')} |`;
console.log(
  [
    '',
    `| audit, ${EVENTS.toLocaleString('en')} events over ${DAYS} days | ${results.map((r) => r.target).join(' | ')} |`,
    `|---|${results.map(() => '---').join('|')}|`,
    line('seeding (INSERT … SELECT generate_series)', (r) => `${r.seed_s.toFixed(1)} s`),
    line('rollup of the closed days (as the hourly maintenance)', (r) => `${r.rollup_s.toFixed(1)} s (${r.rollup_days} days)`),
    line('security report, last 24 h (median)', (r) => `${fmt(r.report_24h_ms)} ms`),
    line('security report, 30 days (median)', (r) => `${fmt(r.report_30d_ms)} ms`),
    line('findings (24 h / 30 days)', (r) => `${r.report_24h_findings} / ${r.report_30d_findings}`),
    line(
      'group-commit writer, 64 callers',
      (r) =>
        `${Math.round(r.writer_events_per_s).toLocaleString('en')} events/s, p50 ${fmt(r.writer_p50_ms)} ms, p99 ${fmt(r.writer_p99_ms)} ms`,
    ),
    line(
      `purge of ${DAYS === 30 ? 'the month' : `${DAYS} days`} (--older-than 1d)`,
      (r) =>
        `${fmt(r.purge_ms)} ms: ${r.purge_dropped_partitions} partitions dropped, ${r.purge_deleted_rows.toLocaleString('en')} rows deleted`,
    ),
    line(
      'insert p99 / max before the purge',
      (r) => `${fmt(r.insert_before_p99_ms)} / ${fmt(r.insert_before_max_ms)} ms`,
    ),
    line('insert p99 / max during the purge', (r) =>
      r.insert_during_purge_n
        ? `${fmt(r.insert_during_purge_p99_ms)} / ${fmt(r.insert_during_purge_max_ms)} ms (${r.insert_during_purge_n} inserts)`
        : 'n/a',
    ),
  ].join('\n'),
);
if (flow)
  console.log(
    `\ntoken flow (authorization code + PKCE, ${FLOW_CONCURRENCY} users, PostgreSQL): ` +
      `${flow.flows_per_s_audit_on.toFixed(0)} flows/s with the audit trail, ${flow.flows_per_s_audit_off.toFixed(0)} without ` +
      `→ audit cost ${flow.audit_cost_pct.toFixed(1)} % (goal < 15 %); runs on ${flow.runs.on.join(', ')}, off ${flow.runs.off.join(', ')}; ` +
      `${flow.events_stored} events stored in one run with the listener, ${flow.events_stored_listener_off} without; ` +
      `CPU per flow: Latchkey ${flow.server_cpu_ms_per_flow_on.toFixed(2)} ms with, ${flow.server_cpu_ms_per_flow_off.toFixed(2)} ms without` +
      (flow.postgres_cpu_ms_per_flow_on !== null
        ? `; PostgreSQL ≤ ${flow.postgres_cpu_ms_per_flow_on.toFixed(2)} ms with, ≤ ${flow.postgres_cpu_ms_per_flow_off.toFixed(2)} ms without`
        : ''),
  );
else if (TARGETS.includes('postgres')) console.log(`\n(token-flow comparison skipped: no harness at ${HARNESS})`);
process.exit(0);
