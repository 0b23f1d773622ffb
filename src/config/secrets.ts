import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Env } from './env-values';

/**
 * A secret setting (KEY_ENCRYPTION_KEY, SESSION_SECRET): at least 32 random bytes, base64url-encoded; required in
 * production, generated (and stored) in development.
 */
export function secret(
  env: Env,
  name: string,
  production: boolean,
  stored: Record<string, string>,
): { value: Buffer; generated: boolean; stored?: boolean } {
  const raw = env[name];
  if (raw) {
    const value = Buffer.from(raw, 'base64url');
    if (value.length < 32 || !/^[A-Za-z0-9_-]+={0,2}$/.test(raw))
      throw new ConfigError(name, 'must be at least 32 random bytes, base64url-encoded');
    return { value, generated: false };
  }
  if (production) throw new ConfigError(name, 'is required when NODE_ENV=production');
  const generated = stored[name] === undefined;
  stored[name] ??= randomBytes(32).toString('base64url');
  return { value: Buffer.from(stored[name], 'base64url'), generated, stored: true };
}

/** Development secrets are generated once into $DATA_DIR/secrets.json (mode 0600) and reused afterwards. */
export function loadStoredSecrets(
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
