import type { PGlite as PGliteType } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { DatabaseTarget } from '../config/environment';
import { MIGRATIONS } from '../../migrations';
import { lockDataDir } from './data-dir-lock';
import { PGlitePool, pgliteDriver } from './pglite-pool';

export interface DataSourceSettings {
  target: DatabaseTarget;
  poolSize: number;
  /** The PostgreSQL schema to use (tests isolate files by database instead; kept for completeness). */
  applicationName?: string;
  /** Start a new embedded database from the build's migrated template (default true). */
  useTemplate?: boolean;
  /**
   * TypeORM entities, for the migration CLI (src/typeorm-cli.ts passes src/entities.ts). The app leaves this
   * empty: each module registers its own entities with TypeOrmModule.forFeature (autoLoadEntities).
   */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity list type
  entities?: Function[];
}

/**
 * The one DataSource options factory, used by the app, the CLI, the tests and the TypeORM migration CLI.
 * DATABASE_URL unset → PGlite files under $DATA_DIR/pglite; pglite://memory → in-memory PGlite;
 * postgres://… → node-postgres with a pool of DATABASE_POOL_SIZE. `synchronize` is never on.
 */
export async function createDataSourceOptions(settings: DataSourceSettings): Promise<DataSourceOptions> {
  const common = {
    type: 'postgres' as const,
    entities: settings.entities ?? [],
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false, // run by DatabaseMigrator under an advisory lock
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    logging: false,
  };
  if (settings.target.kind === 'postgres') {
    return {
      ...common,
      url: settings.target.url,
      poolSize: settings.poolSize,
      applicationName: settings.applicationName ?? 'latchkey',
      connectTimeoutMS: 5000,
      extra: {
        // fail fast when the database is down instead of queueing requests forever
        connectionTimeoutMillis: 5000,
        query_timeout: 15000,
        idleTimeoutMillis: 30000,
      },
    };
  }
  const db = await openPGlite(settings.target.dataDir, settings.useTemplate ?? true);
  const pool = new PGlitePool(db);
  return { ...common, driver: pgliteDriver(pool) } as DataSourceOptions;
}

/**
 * A PGlite data directory with every migration of the build applied, dumped by `npm run build`
 * (scripts/build.mjs → build-pglite-template.ts). A new embedded database starts from it instead of running
 * initdb (~3 s → ~0.6 s); migrations still run afterwards, so a stale template is only slower, never wrong.
 */
export function pgliteTemplatePath(): string {
  return typeof __dirname !== 'undefined'
    ? join(__dirname, '..', '..', 'pglite-template.tgz')
    : join(process.cwd(), 'dist', 'pglite-template.tgz');
}

export async function openPGlite(dataDir: string | null, useTemplate = true): Promise<PGliteType> {
  const { PGlite } = await import('@electric-sql/pglite');
  const fresh = dataDir === null || !existsSync(join(dataDir, 'PG_VERSION'));
  const template = useTemplate && fresh && existsSync(pgliteTemplatePath()) ? pgliteTemplatePath() : null;
  const options = template ? { loadDataDir: new Blob([readFileSync(template)]) } : {};
  if (!dataDir) return (await PGlite.create(options)) as unknown as PGliteType;
  // one process at a time (PGlite does not lock the directory itself): refuses naming the owner's pid
  const release = lockDataDir(dataDir);
  try {
    mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir, options);
    const close = db.close.bind(db);
    db.close = async () => {
      try {
        await close();
      } finally {
        release();
      }
    };
    return db as unknown as PGliteType;
  } catch (err) {
    release();
    throw err;
  }
}

/** The PGlite instance behind a DataSource, if it is embedded (to close it cleanly on shutdown). */
export function embeddedDatabase(dataSource: DataSource) {
  const driver = (dataSource.options as { driver?: { Pool: new () => PGlitePool } }).driver;
  if (!driver || dataSource.options.type !== 'postgres') return undefined;
  const pool = new driver.Pool();
  return pool instanceof PGlitePool ? pool.db : undefined;
}

export function isEmbedded(dataSource: DataSource): boolean {
  return embeddedDatabase(dataSource) !== undefined;
}
