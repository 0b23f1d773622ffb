import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { parseDuration } from './duration';

/** A configuration error names the variable and what is wrong with it, and nothing else. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
  }
}

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string | null } // null = in memory
  | { kind: 'postgres'; url: string };

/** Every setting of CONTRACT.md's table, parsed and typed. Read through the namespaces in config.namespaces.ts. */
export interface LatchkeyEnvironment {
  nodeEnv: string;
  production: boolean;
  port: number;
  host: string;
  issuer: string;
  database: DatabaseTarget;
  databasePoolSize: number;
  dataDir: string;
  keyEncryptionKey: Buffer;
  sessionSecret: Buffer;
  generatedSecrets: boolean;
  authCodeTtl: number;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  refreshReuseGrace: number;
  sessionIdleTtl: number;
  sessionAbsoluteTtl: number;
  keyPublishDelay: number;
  scopes: string[];
  accessTokenAudience: string;
  trustProxy: TrustProxy;
  auditRetention: number;
  auditFlushIntervalMs: number;
  logLevel: string;
  /** bytes */
  bodyLimit: number;
  rateLimitToken: number;
  rateLimitAuthorize: number;
  rateLimitWindow: number;
  rateLimitApi: number;
  rateLimitMaxKeys: number;
  lockoutThreshold: number;
  lockoutBase: number;
  lockoutMax: number;
  clientAuthFailureLimit: number;
  clientSecretRotationOverlap: number;
  clientCacheTtlMs: number;
  reportThresholds: Record<string, number>;
  clusterWorkers: number;
}

type Env = Record<string, string | undefined>;

/**
 * TRUST_PROXY (CONTRACT.md): which peers are proxies whose X-Forwarded-For is believed. `false`: none (the
 * socket peer is the client); `hops`: the socket peer and the hops-1 right-most entries; `addresses`: peers
 * whose address is in the list (addresses, CIDRs, or proxy-addr's `loopback`/`linklocal`/`uniquelocal`).
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

const BUILTIN_SCOPES = ['clients:read', 'clients:write', 'audit:read'];
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/; // RFC 6749 §3.3 scope-token

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v === '' ? fallback : v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer (got "${raw}")`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

function duration(env: Env, name: string, fallback: string, minSeconds = 0): number {
  const raw = str(env, name, fallback);
  const seconds = parseDuration(raw);
  if (seconds === undefined)
    throw new ConfigError(name, `must be a duration like 60s, 15m, 12h or 30d (got "${raw}")`);
  if (seconds < minSeconds) throw new ConfigError(name, `must be at least ${minSeconds}s (got "${raw}")`);
  return seconds;
}

/** An on/off setting (none left since TRUST_PROXY took a hop count or addresses; kept for the next). */
export function bool(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'off', 'no'].includes(raw)) return false;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  throw new ConfigError(name, `must be on/off, true/false or 1/0 (got "${env[name]}")`);
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

function trustProxy(env: Env): TrustProxy {
  const raw = (env.TRUST_PROXY ?? '').trim();
  if (['', '0', 'false', 'off', 'no'].includes(raw.toLowerCase())) return false;
  if (['on', 'true', 'yes'].includes(raw.toLowerCase()))
    throw new ConfigError(
      'TRUST_PROXY',
      `no longer accepts "${raw}" (it believed the left-most X-Forwarded-For entry, which the client writes): give the number of proxies in front (1, 2, …) or their addresses/CIDRs`,
    );
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 32) throw new ConfigError('TRUST_PROXY', `must be a hop count from 1 to 32 (got ${raw})`);
    return { hops };
  }
  const addresses = raw.split(',').map((a) => a.trim());
  for (const a of addresses) {
    if (PROXY_NAMES.includes(a)) continue;
    const [ip, prefix, extra] = a.split('/');
    const family = isIP(ip);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (!family || !prefixOk || extra !== undefined)
      throw new ConfigError(
        'TRUST_PROXY',
        `must be off, a hop count or a comma-separated list of proxy addresses/CIDRs (got "${a}")`,
      );
  }
  return { addresses };
}

function absoluteUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL (got "${raw}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(name, 'must use http or https');
  if (url.search || url.hash || raw.includes('?') || raw.includes('#'))
    throw new ConfigError(name, 'must not have a query or fragment');
  if (raw.endsWith('/')) throw new ConfigError(name, 'must not end with a slash');
  return raw;
}

function secret(
  env: Env,
  name: string,
  production: boolean,
  stored: Record<string, string>,
): { value: Buffer; generated: boolean } {
  const raw = env[name];
  if (raw) {
    const value = Buffer.from(raw, 'base64url');
    if (value.length < 32 || !/^[A-Za-z0-9_-]+={0,2}$/.test(raw))
      throw new ConfigError(name, 'must be at least 32 random bytes, base64url-encoded');
    return { value, generated: false };
  }
  if (production) throw new ConfigError(name, 'is required when NODE_ENV=production');
  stored[name] ??= randomBytes(32).toString('base64url');
  return { value: Buffer.from(stored[name], 'base64url'), generated: true };
}

/** Development secrets are generated once into $DATA_DIR/secrets.json (mode 0600) and reused afterwards. */
function loadStoredSecrets(
  dataDir: string,
  persist: boolean,
): { stored: Record<string, string>; save: () => void } {
  const file = join(dataDir, 'secrets.json');
  const stored: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const before = JSON.stringify(stored);
  return {
    stored,
    save: () => {
      if (!persist || JSON.stringify(stored) === before) return;
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, JSON.stringify(stored, null, 2), { mode: 0o600 });
      chmodSync(file, 0o600);
    },
  };
}

function databaseTarget(env: Env, dataDir: string): DatabaseTarget {
  const url = env.DATABASE_URL;
  if (!url) return { kind: 'pglite', dataDir: join(dataDir, 'pglite') };
  if (url === 'pglite://memory') return { kind: 'pglite', dataDir: null };
  if (url.startsWith('pglite://')) return { kind: 'pglite', dataDir: resolve(url.slice('pglite://'.length)) };
  if (/^postgres(ql)?:\/\/.+/.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError('DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url };
  }
  throw new ConfigError('DATABASE_URL', 'must be postgres://…, pglite://memory or pglite:///path');
}

/**
 * Parses and validates the whole environment. Throws ConfigError naming the first bad variable.
 * Side effect (development only): generated secrets are written to $DATA_DIR/secrets.json.
 */
export function loadEnvironment(env: Env = process.env): LatchkeyEnvironment {
  const nodeEnv = str(env, 'NODE_ENV', 'development');
  const production = nodeEnv === 'production';
  const port = int(env, 'PORT', 3000, 0, 65535);
  const host = str(env, 'HOST', '0.0.0.0');
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host))
    throw new ConfigError('HOST', `is not a host name or address (got "${host}")`);
  const issuer = absoluteUrl('ISSUER', str(env, 'ISSUER', `http://localhost:${port}`));
  const dataDir = resolve(str(env, 'DATA_DIR', './data'));
  const database = databaseTarget(env, dataDir);

  const persistSecrets = !(database.kind === 'pglite' && database.dataDir === null && !env.DATA_DIR);
  const secrets = production
    ? { stored: {}, save: () => undefined }
    : loadStoredSecrets(dataDir, persistSecrets);
  const kek = secret(env, 'KEY_ENCRYPTION_KEY', production, secrets.stored);
  const session = secret(env, 'SESSION_SECRET', production, secrets.stored);
  if (kek.value.length !== 32 && env.KEY_ENCRYPTION_KEY)
    throw new ConfigError('KEY_ENCRYPTION_KEY', 'must be exactly 32 bytes, base64url-encoded');

  const scopesRaw = str(env, 'SCOPES', 'api:read api:write').trim();
  const scopes = scopesRaw.split(/\s+/).filter(Boolean);
  for (const s of scopes) {
    if (!SCOPE_TOKEN.test(s) || s.length > 100)
      throw new ConfigError('SCOPES', `has an invalid scope token "${s}"`);
    if (BUILTIN_SCOPES.includes(s))
      throw new ConfigError('SCOPES', `must not list the built-in scope "${s}"`);
  }

  const logLevel = str(env, 'LOG_LEVEL', production ? 'info' : 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel))
    throw new ConfigError('LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent');
  const bodyLimitText = str(env, 'BODY_LIMIT', '16kb');
  const bodySize = /^(\d{1,7})(b|kb|mb)$/i.exec(bodyLimitText);
  if (!bodySize) throw new ConfigError('BODY_LIMIT', 'must be a size like 16kb or 1mb');
  const bodyLimit =
    Number(bodySize[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[bodySize[2].toLowerCase() as 'b'];

  const result: LatchkeyEnvironment = {
    nodeEnv,
    production,
    port,
    host,
    issuer,
    database,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 500),
    dataDir,
    keyEncryptionKey: kek.value,
    sessionSecret: session.value,
    generatedSecrets: kek.generated || session.generated,
    authCodeTtl: duration(env, 'AUTH_CODE_TTL', '60s', 1),
    accessTokenTtl: duration(env, 'ACCESS_TOKEN_TTL', '15m', 1),
    refreshTokenTtl: duration(env, 'REFRESH_TOKEN_TTL', '30d', 1),
    refreshReuseGrace: duration(env, 'REFRESH_REUSE_GRACE', '0s'),
    sessionIdleTtl: duration(env, 'SESSION_IDLE_TTL', '30m', 1),
    sessionAbsoluteTtl: duration(env, 'SESSION_ABSOLUTE_TTL', '12h', 1),
    // above the JWKS max-age (60 s) plus the instances' key refresh (10 s): no resource server meets a new kid
    keyPublishDelay: duration(env, 'KEY_PUBLISH_DELAY', '75s'),
    scopes,
    accessTokenAudience: absoluteUrl('ACCESS_TOKEN_AUDIENCE', str(env, 'ACCESS_TOKEN_AUDIENCE', issuer)),
    trustProxy: trustProxy(env),
    auditRetention: duration(env, 'AUDIT_RETENTION', '90d', 86400),
    auditFlushIntervalMs: int(env, 'AUDIT_FLUSH_INTERVAL_MS', 2, 0, 1000),
    logLevel,
    bodyLimit,
    rateLimitToken: int(env, 'RATE_LIMIT_TOKEN', 1200, 1, 1_000_000_000),
    rateLimitAuthorize: int(env, 'RATE_LIMIT_AUTHORIZE', 300, 1, 1_000_000_000),
    rateLimitWindow: duration(env, 'RATE_LIMIT_WINDOW', '60s', 1),
    rateLimitApi: int(env, 'RATE_LIMIT_API', 600, 1, 1_000_000_000),
    rateLimitMaxKeys: int(env, 'RATE_LIMIT_MAX_KEYS', 50_000, 100, 10_000_000),
    lockoutThreshold: int(env, 'LOCKOUT_THRESHOLD', 5, 1, 1000),
    lockoutBase: duration(env, 'LOCKOUT_BASE', '1m', 1),
    lockoutMax: duration(env, 'LOCKOUT_MAX', '15m', 1),
    clientAuthFailureLimit: int(env, 'CLIENT_AUTH_FAILURE_LIMIT', 20, 1, 1_000_000),
    clientSecretRotationOverlap: duration(env, 'CLIENT_SECRET_ROTATION_OVERLAP', '0s'),
    clientCacheTtlMs: int(env, 'CLIENT_CACHE_TTL_MS', 1000, 0, 1000),
    reportThresholds: reportThresholds(env),
    clusterWorkers: int(env, 'CLUSTER_WORKERS', 1, 1, 64),
  };
  secrets.save();
  return result;
}

/** Report rule thresholds: REPORT_<RULE>_<NAME> (e.g. REPORT_IP_FAILURE_BURST_COUNT=10). */
function reportThresholds(env: Env): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('REPORT_') || value === undefined) continue;
    if (!/^\d+(\.\d+)?$/.test(value)) throw new ConfigError(name, `must be a number (got "${value}")`);
    out[name.slice('REPORT_'.length).toLowerCase()] = Number(value);
  }
  return out;
}

export { BUILTIN_SCOPES };
