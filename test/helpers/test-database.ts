import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

export interface TestDatabase {
  /** DATABASE_URL for the app under test */
  url: string;
  /** a private DATA_DIR (holds the CLI socket) */
  dataDir: string;
  kind: 'pglite' | 'postgres';
  drop(): Promise<void>;
}

/** True when the suite runs against PostgreSQL (npm run test:pg / .ci/run). */
export function onPostgres(): boolean {
  return /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '');
}

/**
 * An isolated database per test app: in-memory PGlite, or on PostgreSQL a fresh database created on the
 * server named by DATABASE_URL (dropped afterwards). Migrations run when the app starts, as in production.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
  if (!onPostgres()) {
    return {
      url: 'pglite://memory',
      dataDir,
      kind: 'pglite',
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const admin = new URL(process.env.DATABASE_URL!);
  const name = `latchkey_test_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await withClient(admin.href, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(admin.href);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    dataDir,
    kind: 'postgres',
    drop: async () => {
      await withClient(admin.href, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
