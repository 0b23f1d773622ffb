import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../../../src/config/duration';
import { ConfigError, loadEnvironment } from '../../../src/config/environment';

const KEY = Buffer.alloc(32, 1).toString('base64url');
const dataDirs: string[] = [];
const base = (extra: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'lk-env-'));
  dataDirs.push(dir);
  return { DATA_DIR: dir, KEY_ENCRYPTION_KEY: KEY, SESSION_SECRET: KEY, ...extra };
};
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadEnvironment(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('environment', () => {
  it('starts with no variables at all, using the contract defaults', () => {
    const env = loadEnvironment({ DATA_DIR: base().DATA_DIR });
    expect(env.port).toBe(3000);
    expect(env.host).toBe('0.0.0.0');
    expect(env.issuer).toBe('http://localhost:3000');
    expect(env.database).toEqual({ kind: 'pglite', dataDir: join(env.dataDir, 'pglite') });
    expect(env.authCodeTtl).toBe(60);
    expect(env.accessTokenTtl).toBe(900);
    expect(env.refreshTokenTtl).toBe(30 * 86400);
    expect(env.refreshReuseGrace).toBe(0);
    expect(env.scopes).toEqual(['api:read', 'api:write']);
    expect(env.accessTokenAudience).toBe('http://localhost:3000');
    expect(env.trustProxy).toBe(false);
    expect(env.auditRetention).toBe(90 * 86400);
  });

  it('generates development secrets once into $DATA_DIR/secrets.json (mode 0600) and reuses them', () => {
    const dir = base().DATA_DIR;
    const first = loadEnvironment({ DATA_DIR: dir });
    const second = loadEnvironment({ DATA_DIR: dir });
    expect(first.generatedSecrets).toBe(true);
    // the warning is for the start that generated them; a restart reuses them
    expect(second.generatedSecrets).toBe(false);
    expect(second.developmentSecrets).toBe(true);
    expect(first.keyEncryptionKey.equals(second.keyEncryptionKey)).toBe(true);
    expect(first.sessionSecret.equals(second.sessionSecret)).toBe(true);
    const file = join(dir, 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8'))).sort()).toEqual([
      'KEY_ENCRYPTION_KEY',
      'SESSION_SECRET',
    ]);
  });

  it.each([
    ['PORT', 'notaport'],
    ['PORT', '70000'],
    ['ISSUER', 'not a url'],
    ['ISSUER', 'http://example.com/'],
    ['ISSUER', 'https://example.com?x=1'],
    ['ISSUER', 'ftp://example.com'],
    ['DATABASE_URL', 'mysql://x'],
    ['AUTH_CODE_TTL', '60'],
    ['ACCESS_TOKEN_TTL', '15 minutes'],
    ['REFRESH_TOKEN_TTL', '0s'],
    ['REFRESH_REUSE_GRACE', '-1s'],
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', 'on'],
    ['TRUST_PROXY', 'true'],
    ['TRUST_PROXY', '33'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1, example.com'],
    ['RATE_LIMIT_API', '0'],
    ['RATE_LIMIT_MAX_KEYS', '10'],
    ['AUDIT_RETENTION', '1h'],
    ['SCOPES', 'api:read clients:write'],
    ['SCOPES', 'bad"scope'],
    ['KEY_ENCRYPTION_KEY', 'short'],
    ['SESSION_SECRET', 'short'],
    ['ACCESS_TOKEN_AUDIENCE', 'nope'],
    ['LOG_LEVEL', 'loud'],
  ])('stops on an invalid %s (%s) with a message naming it', (name, value) => {
    const err = errorFor(base({ [name]: value }));
    expect(err.variable).toBe(name);
    expect(err.message).toContain(name);
  });

  it.each([
    ['', false],
    ['off', false],
    ['1', { hops: 1 }],
    ['2', { hops: 2 }],
    ['10.0.0.1', { addresses: ['10.0.0.1'] }],
    ['10.0.0.0/8, fd00::/8,loopback', { addresses: ['10.0.0.0/8', 'fd00::/8', 'loopback'] }],
  ])('reads TRUST_PROXY=%j as off, a hop count or a list of proxies', (value, expected) => {
    expect(loadEnvironment(base({ TRUST_PROXY: value })).trustProxy).toEqual(expected);
  });

  it('publishes a rotated key longer than the JWKS may be cached (max-age 60 s) before it signs', () => {
    expect(loadEnvironment(base()).keyPublishDelay).toBeGreaterThan(60);
  });

  it('requires both secrets in production', () => {
    const dir = base().DATA_DIR;
    expect(errorFor({ NODE_ENV: 'production', DATA_DIR: dir }).variable).toBe('KEY_ENCRYPTION_KEY');
    expect(errorFor({ NODE_ENV: 'production', DATA_DIR: dir, KEY_ENCRYPTION_KEY: KEY }).variable).toBe(
      'SESSION_SECRET',
    );
    expect(loadEnvironment({ NODE_ENV: 'production', ...base() }).generatedSecrets).toBe(false);
  });

  it('understands every DATABASE_URL form', () => {
    expect(loadEnvironment(base({ DATABASE_URL: 'pglite://memory' })).database).toEqual({
      kind: 'pglite',
      dataDir: null,
    });
    expect(loadEnvironment(base({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' })).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@127.0.0.1:5432/db',
    });
  });
});

describe('parseDuration', () => {
  it.each([
    ['60s', 60],
    ['15m', 900],
    ['12h', 43200],
    ['30d', 2592000],
    ['0s', 0],
  ])('parses %s', (text, seconds) => expect(parseDuration(text)).toBe(seconds));
  it.each(['', '1', '1w', 's', '1.5h', '-1s', '1 h'])('rejects %p', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
  it('has the denial-of-service bounds of issue 20, each configurable and validated', () => {
    const env = loadEnvironment(base());
    expect(env).toMatchObject({
      loginConcurrency: Math.max(1, Math.floor(availableParallelism() / 2)),
      loginQueue: 16,
      loginBudget: 1200,
      auditQueryConcurrency: 2,
      auditStatementTimeoutMs: 30_000,
      auditReportMaxWindow: 31 * 86400,
      headersTimeoutMs: 10_000,
    });
    expect(env.maxConnections).toBeGreaterThanOrEqual(64);
    expect(env.maxConnections).toBeLessThanOrEqual(16_384);
    const custom = loadEnvironment(
      base({ LOGIN_CONCURRENCY: '4', LOGIN_QUEUE: '0', MAX_CONNECTIONS: '500', HEADERS_TIMEOUT: '5s' }),
    );
    expect(custom).toMatchObject({
      loginConcurrency: 4,
      loginQueue: 0,
      maxConnections: 500,
      headersTimeoutMs: 5000,
    });
    expect(errorFor(base({ LOGIN_CONCURRENCY: '0' })).variable).toBe('LOGIN_CONCURRENCY');
    expect(errorFor(base({ MAX_CONNECTIONS: 'many' })).variable).toBe('MAX_CONNECTIONS');
    expect(errorFor(base({ AUDIT_REPORT_MAX_WINDOW: '10m' })).variable).toBe('AUDIT_REPORT_MAX_WINDOW');
  });
});
