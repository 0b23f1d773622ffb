import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvironment } from '../../src/config/environment';

/**
 * docker-compose.yml's documented one-liner (openssl, no Node on the host) writes a .env the server accepts in
 * production, once: run again, it keeps the secrets (a new secret would leave stored signing keys undecryptable).
 */
describe('the docker-compose .env one-liner', () => {
  const line = readFileSync('docker-compose.yml', 'utf8')
    .split('\n')
    .find((l) => l.includes('openssl rand'))!
    .replace(/^#\s*/, '');
  const dir = mkdtempSync(join(tmpdir(), 'latchkey-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = () => execFileSync('bash', ['-c', line], { cwd: dir });
  const read = () =>
    Object.fromEntries(
      readFileSync(join(dir, '.env'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    ) as Record<string, string>;

  it('creates KEY_ENCRYPTION_KEY and SESSION_SECRET that production start-up accepts, mode 0600', () => {
    run();
    const env = read();
    expect(Object.keys(env).sort()).toEqual(['KEY_ENCRYPTION_KEY', 'SESSION_SECRET']);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    const loaded = loadEnvironment({ NODE_ENV: 'production', DATABASE_URL: 'postgres://u@h/db', ...env });
    expect(loaded.keyEncryptionKey).toHaveLength(32);
    expect(loaded.sessionSecret).toHaveLength(32);
    expect(env.KEY_ENCRYPTION_KEY).not.toBe(env.SESSION_SECRET);
  });

  it('does not replace the secrets when run again', () => {
    const before = read();
    run();
    expect(read()).toEqual(before);
  });
});
