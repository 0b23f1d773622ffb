import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isEmbedded } from './data-source';

/** Key of the advisory lock under which migrations (and first-key generation) run: "latchkey" in ASCII. */
export const MIGRATION_LOCK_KEY = 0x6c617463686b6579n.toString();

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

/** Runs `fn` while holding pg_advisory_lock(key) on PostgreSQL; directly on PGlite (single process). */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (isEmbedded(dataSource)) return fn();
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
    }
  } finally {
    await runner.release();
  }
}
