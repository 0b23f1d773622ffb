import { DataSource } from 'typeorm';
import { createDataSourceOptions } from '../../src/database/data-source';
import { runMigrations } from '../../src/database/migrator';
import { sql } from '../../src/database/sql';
import { createTestDatabase, TestDatabase } from '../helpers/test-database';
import { loadEnvironment } from '../../src/config/environment';

/**
 * The embedded database must isolate concurrent transactions like PostgreSQL does (typeorm-pglite does not:
 * docs/architecture.md, PGlite transactions). Runs on whichever database the suite targets.
 */
describe('database transactions', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = loadEnvironment({
      DATABASE_URL: db.url,
      DATA_DIR: db.dataDir,
      KEY_ENCRYPTION_KEY: 'a'.repeat(43),
      SESSION_SECRET: 'a'.repeat(43),
    });
    ds = await new DataSource(
      await createDataSourceOptions({ target: env.database, poolSize: 4 }),
    ).initialize();
    await runMigrations(ds);
    await ds.query(`CREATE TABLE isolation_probe (id int PRIMARY KEY, note text)`);
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('keeps a rolled-back insert out even when another transaction commits concurrently', async () => {
    const failing = ds
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO isolation_probe VALUES (1, 'rolled back')`);
        await new Promise((r) => setTimeout(r, 20));
        throw new Error('abort');
      })
      .catch((e: Error) => e.message);
    const committing = ds.transaction(async (tx) => {
      await tx.query(`INSERT INTO isolation_probe VALUES (2, 'committed')`);
    });
    expect(await failing).toBe('abort');
    await committing;
    const rows = await sql<{ id: number }>(ds, `SELECT id FROM isolation_probe ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual([2]);
  });

  it('lets exactly one of many concurrent conditional updates win', async () => {
    await ds.query(`INSERT INTO isolation_probe VALUES (10, NULL)`);
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ds.transaction((tx) =>
          sql(tx, `UPDATE isolation_probe SET note = $1 WHERE id = 10 AND note IS NULL RETURNING id`, [
            `w${i}`,
          ]),
        ),
      ),
    );
    expect(attempts.filter((rows) => rows.length === 1)).toHaveLength(1);
  });

  it('returns rows for UPDATE … RETURNING and SELECT alike through sql()', async () => {
    const updated = await sql(ds, `UPDATE isolation_probe SET note = 'x' WHERE id = 2 RETURNING id`);
    expect(updated).toEqual([{ id: 2 }]);
    const none = await sql(ds, `UPDATE isolation_probe SET note = 'x' WHERE id = 999 RETURNING id`);
    expect(none).toEqual([]);
    const count = await sql<{ n: number }>(ds, `SELECT count(*)::int AS n FROM isolation_probe`);
    expect(count[0].n).toBe(2); // ids 2 and 10
  });
});
