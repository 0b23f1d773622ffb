import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isEmbedded } from './data-source';

/** Key of the advisory lock under which migrations (and first-key generation) run: "latchkey" in ASCII. */
export const MIGRATION_LOCK_KEY = 0x6c617463686b6579n.toString();
/** How often an instance waiting for another's migrations asks for the lock again. */
const LOCK_POLL_MS = 200;

/**
 * Applies pending migrations. On PostgreSQL several instances may start at once, so this runs under a
 * session-level advisory lock held on a dedicated connection. PGlite is owned by one process: no lock.
 */
export async function runMigrations(
  dataSource: DataSource,
  logger = new Logger('Migrations'),
): Promise<string[]> {
  if (isEmbedded(dataSource)) {
    const done = await dataSource.runMigrations({ transaction: 'each' });
    return report(
      done.map((m) => m.name),
      logger,
    );
  }
  return withAdvisoryLock(dataSource, MIGRATION_LOCK_KEY, async () => {
    const done = await dataSource.runMigrations({ transaction: 'each' });
    return report(
      done.map((m) => m.name),
      logger,
    );
  });
}

function report(names: string[], logger: Logger) {
  if (names.length) logger.log(`applied ${names.length} migration(s): ${names.join(', ')}`);
  return names;
}

/**
 * Runs `fn` while holding the session-level advisory lock `key` on PostgreSQL; directly on PGlite (single
 * process). The lock is waited for by polling pg_try_advisory_lock, not by a blocking pg_advisory_lock: a
 * session blocked in that call is a statement in progress, and a migration that builds an index CONCURRENTLY
 * waits for every statement in progress — while the blocked one waits for the migration's lock, a wait
 * PostgreSQL cannot see as a deadlock (two instances, or CLUSTER_WORKERS, starting at once).
 */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (isEmbedded(dataSource)) return fn();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    for (;;) {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1::bigint) AS locked', [
        key,
      ])) as Array<{
        locked: boolean;
      }>;
      if (row?.locked) break;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  } finally {
    await runner.release();
  }
}
