// Shared by the bench drivers (bench/run.mjs, bench/scale.mjs): the throwaway PostgreSQL cluster, CPU ticks of
// PostgreSQL, the Latchkey server process and its environment, the CLI, and the flow harness
// (../shared/bench/flow-bench.mjs). Plain Node ESM, no dependency.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const HARNESS = resolve(process.env.BENCH_HARNESS_DIR ?? join(ROOT, '..', 'shared', 'bench'));
export const PASSWORD = 'bench-password-1';

/** Exits when the flow harness is missing. */
export function requireHarness() {
  if (!existsSync(join(HARNESS, 'flow-bench.mjs'))) {
    console.error(`no harness at ${HARNESS} (set BENCH_HARNESS_DIR)`);
    process.exit(1);
  }
}

/** `npm run build` when dist/ is missing. */
export function ensureBuild() {
  if (!existsSync(join(ROOT, 'dist/src/main.js'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

// ---- PostgreSQL ---------------------------------------------------------------------------------------
function bash(script, env = process.env) {
  return execFileSync('bash', ['-c', `source "${ROOT}/scripts/pg-cluster.sh"; ${script}`], { encoding: 'utf8', env });
}

/** A throwaway PostgreSQL 15 cluster (scripts/pg-cluster.sh); `port` is PG_PORT (default: a free port). */
export function pgCluster() {
  let current = null;
  return {
    start(port) {
      const env = port ? { ...process.env, PG_PORT: String(port) } : process.env;
      const out = bash('pg_cluster_start >&2 && echo "$PG_CLUSTER_URL|$PG_CLUSTER_DIR"', env).trim().split('\n').pop();
      const [url, dir] = out.split('|');
      current = { url, dir };
      return url;
    },
    /** Takes over a running cluster of pg-cluster.sh (its directory): stop() will stop it. */
    adopt(dir) {
      const port = readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[3].trim();
      current = { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir };
      return current.url;
    },
    /** Leaves the cluster running (stop() does nothing after this). */
    detach() {
      current = null;
    },
    stop() {
      if (current) bash(`PG_CLUSTER_DIR="${current.dir}" pg_cluster_stop`);
      current = null;
    },
    get url() {
      return current?.url;
    },
    get dir() {
      return current?.dir;
    },
  };
}

function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), f: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
}

/** CPU ticks (utime+stime, 1/100 s) of every process whose command is postgres (any cluster on the machine). */
export function postgresTicks() {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const { comm, f } = statFields(pid);
      if (comm !== 'postgres') continue;
      ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks;
}

/**
 * CPU ticks (1/100 s) of one cluster only: its postmaster (with its reaped children) and the postmaster's
 * live children. Other clusters on the machine (other benchmarks running at the same time) do not count.
 * Null when the postmaster's pid cannot be read.
 */
export function clusterTicks(clusterDir) {
  let postmaster;
  try {
    postmaster = Number(readFileSync(join(clusterDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const { f } = statFields(pid);
      if (Number(pid) === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      else if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return ticks;
}

// ---- Latchkey -----------------------------------------------------------------------------------------
/** The server's environment for a benchmark (production mode, every audit event persisted, limits raised). */
export function latchkeyEnv(port, extra) {
  return {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url'),
    SESSION_SECRET: Buffer.alloc(32, 4).toString('base64url'),
    LOG_LEVEL: 'warn',
    // the benchmark drives thousands of requests per second from one IP and one client
    RATE_LIMIT_TOKEN: '100000000',
    RATE_LIMIT_AUTHORIZE: '100000000',
    ...extra,
  };
}

/** One Latchkey process (dist/src/main.js) at a time; `start` waits for /health/ready. */
export function latchkeyServer() {
  let child = null;
  return {
    async start(env) {
      child = spawn(process.execPath, [join(ROOT, 'dist/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      for (let i = 0; i < 150; i++) {
        const ok = await fetch(`${env.ISSUER}/health/ready`).then((r) => r.ok, () => false);
        if (ok) return child.pid;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error('Latchkey did not become ready');
    },
    stop() {
      if (!child) return Promise.resolve();
      const s = child;
      child = null;
      return new Promise((r) => {
        s.once('exit', r);
        s.kill('SIGTERM');
      });
    },
  };
}

/** Runs the CLI (dist/src/cli.js … --json) and returns its last JSON line. */
export function cli(env, args) {
  const out = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli.js'), ...args, '--json'], {
    env,
    encoding: 'utf8',
    input: args.includes('--password-stdin') ? PASSWORD : undefined,
  });
  if (out.status !== 0) throw new Error(`cli ${args[0]} failed: ${out.stderr}`);
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

/**
 * The bench clients and user: a public client (redirect URI http://127.0.0.1:9999/cb), a confidential
 * introspecting client, and `bench-user` (kept when it exists already).
 */
export function registerBenchClients(env) {
  const pub = cli(env, ['client:create', '--name', 'bench', '--auth-method', 'none', '--redirect-uri',
    'http://127.0.0.1:9999/cb', '--grant-types', 'authorization_code,refresh_token', '--scope', 'openid profile api:read']);
  const rs = cli(env, ['client:create', '--name', 'bench-rs', '--auth-method', 'client_secret_basic',
    '--grant-types', 'client_credentials', '--scope', 'api:read']);
  try {
    cli(env, ['user:create', '--username', 'bench-user', '--password-stdin']);
  } catch (e) {
    if (!/exist/i.test(String(e))) throw e;
  }
  return { pub, rs };
}

/** One run of the flow harness; its JSON result line, or `{ error }`. */
export function harness(args) {
  const out = spawnSync(process.execPath, [join(HARNESS, 'flow-bench.mjs'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
  });
  const line = out.stdout.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return { error: `harness failed: ${out.stderr ?? ''} ${line}` };
  }
}
