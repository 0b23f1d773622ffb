#!/usr/bin/env node
// `npm run bench`: Latchkey on PostgreSQL (a throwaway 15 cluster, or DATABASE_URL) and on PGlite, side by side
// with the peer (oidc-provider 9, ../shared/bench/run-peer.sh), driven by the same harness
// (../shared/bench/flow-bench.mjs) in flow, openid, refresh and introspect modes ("openid" is the flow mode with
// `openid profile` in the scope: a nonce at authorize, an id_token from the token endpoint). Prints a table and writes
// bench/RESULTS.md. Load goes only to 127.0.0.1. Rate limits are raised for the run (and the table says so).
//
// Modes: flow (code + PKCE), openid (the flow signing in with OpenID Connect: scope openid profile, nonce,
// id_token), dpop-flow (the FAPI 2.0 shape: PAR + PKCE + DPoP — the request pushed with the client's DPoP proof,
// the code bound to its key, a proof on the token request; harness --dpop 1 --par 1), refresh, introspect.
// Options (env): BENCH_LEVELS="1 16 64", BENCH_MODES="flow openid dpop-flow refresh introspect", BENCH_DURATION=15,
//   BENCH_PEER=1|0, BENCH_PGLITE=1|0, BENCH_WORKERS (Latchkey processes; default CLUSTER_WORKERS or 1),
//   BENCH_HARNESS_DIR (default ../shared/bench), DATABASE_URL (skip the throwaway cluster).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  HARNESS, PASSWORD, ROOT, clusterTicks, ensureBuild, harness, latchkeyEnv, latchkeyServer, pgCluster, postgresTicks, registerBenchClients,
  requireHarness,
} from './common.mjs';

const LEVELS = (process.env.BENCH_LEVELS ?? '1 16 64').split(/\s+/).filter(Boolean).map(Number);
const MODES = (process.env.BENCH_MODES ?? 'flow openid dpop-flow refresh introspect').split(/\s+/).filter(Boolean);
/** A bench mode as harness arguments (and the env of run-peer.sh), its scope, and the latency key of its result line. */
const HARNESS_MODE = {
  openid: { args: ['--mode', 'flow'], env: { BENCH_MODE: 'flow' }, latency: 'flow', scope: 'openid profile api:read' },
  'dpop-flow': { args: ['--mode', 'flow', '--dpop', '1', '--par', '1'], env: { BENCH_MODE: 'flow', BENCH_DPOP: '1', BENCH_PAR: '1' }, latency: 'flow' },
};
const harnessMode = (mode) => HARNESS_MODE[mode] ?? { args: ['--mode', mode], env: { BENCH_MODE: mode }, latency: mode };
const SCOPE = (mode) => harnessMode(mode).scope ?? 'api:read';
const DURATION = process.env.BENCH_DURATION ?? '15';
const WITH_PEER = process.env.BENCH_PEER !== '0';
const WITH_PGLITE = process.env.BENCH_PGLITE !== '0';
const PORT = 3200;
const ISSUER = `http://127.0.0.1:${PORT}`;
const log = (...a) => console.error('[bench]', ...a);

requireHarness();
ensureBuild();

// ---- PostgreSQL ---------------------------------------------------------------------------------------
const cluster = pgCluster();
const startCluster = () => cluster.start();
const stopCluster = () => cluster.stop();
const server = latchkeyServer();
/**
 * PostgreSQL's CPU ticks: of the cluster this run started (its postmaster, with the children that exited during
 * the measure — backends, autovacuum workers — and the live ones), else of every postgres process on the machine
 * (a DATABASE_URL server; a process that exits during the measure is then missed).
 */
const pgTicks = () => (cluster.dir ? clusterTicks(cluster.dir) ?? postgresTicks() : postgresTicks());
const stopServer = () => server.stop();
process.on('exit', () => {
  stopServer();
  try {
    stopCluster();
  } catch {}
});
process.on('SIGINT', () => process.exit(130));

// ---- Latchkey -----------------------------------------------------------------------------------------
const baseEnv = (extra) => latchkeyEnv(PORT, extra);
const startServer = (env) => server.start(env);

/**
 * Runs every mode on one Latchkey server. `afterMode(mode)` runs between modes (the peer's run of the same mode,
 * so that both sides of a ratio are measured minutes apart, not a quarter of an hour: this VM's speed drifts).
 */
async function runLatchkey(label, env, afterMode = () => []) {
  const results = [];
  const pid = await startServer(env);
  const { pub, rs } = registerBenchClients(env);
  for (const mode of MODES) {
    for (const c of LEVELS) {
      const pg0 = pgTicks();
      const t0 = Date.now();
      const r = harness(['--issuer', ISSUER, '--client-id', pub.client_id, '--scope', SCOPE(mode),
        '--username', 'bench-user', '--password', PASSWORD, ...harnessMode(mode).args, '--concurrency', String(c),
        '--duration', DURATION, '--server-pid', String(pid),
        '--introspect-client-id', rs.client_id, `--introspect-client-secret=${rs.client_secret}`]);
      const secs = (Date.now() - t0) / 1000;
      const pgPct = env.DATABASE_URL?.startsWith('postgres') ? ((pgTicks() - pg0) / secs) : 0; // % of one core, whole run
      results.push({ system: label, mode, c, r, pgPct });
      log(`${label} ${mode} c=${c}: ${r.ops_per_s ?? r.error} ops/s`);
    }
    results.push(...afterMode(mode));
  }
  await stopServer();
  return results;
}

/** The peer's levels of one mode (run-peer.sh starts it fresh per level on its own port). */
function runPeerMode(mode) {
  const results = [];
  const out = spawnSync('bash', [join(HARNESS, 'run-peer.sh'), ...LEVELS.map(String)], {
    encoding: 'utf8',
    env: { ...process.env, ...harnessMode(mode).env, BENCH_SCOPE: SCOPE(mode), BENCH_DURATION: DURATION, IDLE_WAIT: '20',
      ...(mode === 'introspect' ? { BENCH_INTROSPECT_TOKEN: 'refresh' } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
  const lines = (out.stdout ?? '').trim().split('\n').filter((l) => l.startsWith('{'));
  LEVELS.forEach((c, i) => {
    let r;
    try {
      r = JSON.parse(lines[i]);
    } catch {
      r = { error: 'peer run failed' };
    }
    results.push({ system: 'peer', mode, c, r, pgPct: 0 });
    log(`peer ${mode} c=${c}: ${r.ops_per_s ?? r.error} ops/s`);
  });
  return results;
}

// ---- run ----------------------------------------------------------------------------------------------
const all = [];
const pgUrl = process.env.DATABASE_URL?.startsWith('postgres') ? process.env.DATABASE_URL : startCluster();
{
  const db = `latchkey_bench_${Date.now().toString(36)}`;
  execFileSync('psql', [pgUrl, '-qc', `CREATE DATABASE ${db}`]);
  const url = new URL(pgUrl);
  url.pathname = `/${db}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const env = baseEnv({ DATABASE_URL: url.href, DATA_DIR: dataDir, DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '16',
    ...(process.env.BENCH_WORKERS ? { CLUSTER_WORKERS: process.env.BENCH_WORKERS } : {}) });
  // the peer runs each mode right after Latchkey on PostgreSQL ran it (its Latchkey server idle meanwhile)
  all.push(...(await runLatchkey('latchkey-pg', env, (mode) => (WITH_PEER ? runPeerMode(mode) : []))));
  execFileSync('psql', [pgUrl, '-qc', `DROP DATABASE ${db} WITH (FORCE)`]);
  rmSync(dataDir, { recursive: true, force: true });
}
stopCluster();
if (WITH_PGLITE) {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-pglite-'));
  const env = baseEnv({ DATABASE_URL: '', DATA_DIR: dataDir });
  delete env.DATABASE_URL;
  all.push(...(await runLatchkey('latchkey-pglite', env)));
  rmSync(dataDir, { recursive: true, force: true });
}

// ---- report -------------------------------------------------------------------------------------------
const find = (system, mode, c) => all.find((x) => x.system === system && x.mode === mode && x.c === c);
const fmt = (n, d = 0) => (typeof n === 'number' ? n.toFixed(d) : '–');
const rows = [];
rows.push('| mode | users | system | ops/s | p50 / p95 / p99 (ms) | server CPU % | PostgreSQL CPU % | CPU ms per op (server+PG) | errors | ratio vs peer |');
rows.push('|---|---|---|---|---|---|---|---|---|---|');
for (const mode of MODES) {
  for (const c of LEVELS) {
    for (const system of ['latchkey-pg', 'latchkey-pglite', 'peer']) {
      const x = find(system, mode, c);
      if (!x) continue;
      const r = x.r;
      const lat = r.latency_ms?.[harnessMode(mode).latency] ?? {};
      const serverPct = r.cpu_pct_of_one_core?.server;
      const cpuPerOp = r.ops_per_s ? ((serverPct ?? 0) + x.pgPct) * 10 / r.ops_per_s : undefined;
      const errors = r.errors ? Object.values(r.errors).reduce((a, b) => a + b, 0) : r.error ? 'failed' : 0;
      const peer = find('peer', mode, c)?.r?.ops_per_s;
      const ratio = system !== 'peer' && peer && r.ops_per_s ? `${(r.ops_per_s / peer).toFixed(2)}×` : '';
      rows.push(`| ${mode} | ${c} | ${system} | ${fmt(r.ops_per_s)} | ${fmt(lat.p50, 1)} / ${fmt(lat.p95, 1)} / ${fmt(lat.p99, 1)} | ${fmt(serverPct)} | ${system === 'latchkey-pg' ? fmt(x.pgPct) : '–'} | ${fmt(cpuPerOp, 2)} | ${errors} | ${ratio} |`);
    }
  }
}
// the cost of signing in with OpenID Connect next to the plain OAuth flow (same system, same users)
const costRows = [];
if (MODES.includes('flow') && MODES.includes('openid')) {
  costRows.push('| users | system | plain flow: flows/s, CPU ms per flow | openid flow: flows/s, CPU ms per flow | openid / plain CPU |');
  costRows.push('|---|---|---|---|---|');
  for (const c of LEVELS) {
    for (const system of ['latchkey-pg', 'latchkey-pglite', 'peer']) {
      const plain = find(system, 'flow', c);
      const oidc = find(system, 'openid', c);
      if (!plain || !oidc) continue;
      const cost = (x) => (x.r.ops_per_s ? (((x.r.cpu_pct_of_one_core?.server ?? 0) + x.pgPct) * 10) / x.r.ops_per_s : undefined);
      const [a, b] = [cost(plain), cost(oidc)];
      costRows.push(`| ${c} | ${system} | ${fmt(plain.r.ops_per_s)}, ${fmt(a, 2)} | ${fmt(oidc.r.ops_per_s)}, ${fmt(b, 2)} | ${a && b ? `${(b / a).toFixed(2)}×` : '–'} |`);
    }
  }
  console.log(`\n${costRows.join('\n')}`);
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const table = rows.join('\n');
console.log(table);
const md = `# Benchmark results

Produced by \`npm run bench\` on ${new Date().toISOString()} — ${machine}.
Harness: ../shared/bench/flow-bench.mjs (${DURATION} s per level after warm-up), peer: oidc-provider 9 (../shared/bench/run-peer.sh).
Latchkey: NODE_ENV=production, every audit event persisted; rate limits raised to 10⁸/min for the run
(one IP and one client drive thousands of requests per second). PostgreSQL 15 throwaway cluster on the same machine.
"server CPU %" is the Latchkey (or peer) process, "PostgreSQL CPU %" all postgres processes, both in % of one core.

${table}
${costRows.length ? `
OpenID Connect next to plain OAuth (mode \`openid\` = the flow with \`openid profile\` in the scope: a nonce at
authorize, a profile lookup and an ES256 id_token at the token endpoint, one more audit event):

${costRows.join('\n')}
` : ''}
Raw results (one JSON line per run):

\`\`\`
${all.map((x) => JSON.stringify({ system: x.system, mode: x.mode, c: x.c, pg_cpu_pct: Math.round(x.pgPct), ...x.r })).join('\n')}
\`\`\`
`;
writeFileSync(join(ROOT, 'bench', 'RESULTS.md'), md);
log('wrote bench/RESULTS.md');
