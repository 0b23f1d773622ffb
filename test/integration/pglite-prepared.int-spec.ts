import type { PGlite } from '@electric-sql/pglite';
import { openPGlite } from '../../src/database/data-source';
import { PGlitePool } from '../../src/database/pglite-pool';

/**
 * PGlitePool.prepared: named prepared statements on the embedded database through PGlite's node-postgres adapter
 * (one pg Client per PGlite session, under the pool's lease). Runs on a PGlite of its own whatever DATABASE_URL is,
 * started as the app starts one (from the build's template when there is one: no initdb per test).
 */
describe('PGlite named prepared statements', () => {
  let db: PGlite;
  let pool: PGlitePool;
  beforeEach(async () => {
    db = await openPGlite(null);
    pool = new PGlitePool(db as never, 2000);
    await pool.query('CREATE TABLE t (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), n bigint)');
  });
  afterEach(() => pool.end());

  it('prepares a name once and shapes rows like pg (Date, int8 as text)', async () => {
    for (let i = 1; i <= 3; i++) {
      const rows = (await pool.prepared(
        't_insert',
        'INSERT INTO t (id, n) VALUES ($1, $2) RETURNING id, at, n',
        [i, i * 10],
      )) as Array<{ id: number; at: Date; n: string }>;
      expect(rows).toEqual([{ id: i, at: expect.any(Date), n: String(i * 10) }]);
    }
    const prepared = await pool.query('SELECT name FROM pg_prepared_statements');
    expect(prepared.rows).toEqual([{ name: 't_insert' }]);
  });

  it('never runs inside another caller’s open transaction', async () => {
    const client = (await pool.connect()) as unknown as {
      query(text: string): Promise<unknown>;
      release(): void;
    };
    await client.query('BEGIN');
    await client.query('INSERT INTO t (id) VALUES (1)');
    const counted = pool.prepared('t_count', 'SELECT count(*)::int AS n FROM t', []);
    await new Promise((r) => setTimeout(r, 50)); // it waits for the lease
    await client.query('ROLLBACK');
    client.release();
    expect(await counted).toEqual([{ n: 0 }]);
  });

  it('recovers from a failed connection: the error is handled and the next call reconnects', async () => {
    await pool.prepared('t_one', 'SELECT 1 AS one', []);
    const original = db.execProtocolStream.bind(db);
    let failures = 1;
    (db as unknown as { execProtocolStream: typeof original }).execProtocolStream = (...args) =>
      failures-- > 0 ? Promise.reject(new Error('engine hiccup')) : original(...args);
    await expect(pool.prepared('t_one', 'SELECT 1 AS one', [])).rejects.toThrow();
    // a new client, which deallocates what the old one prepared before preparing again
    expect(await pool.prepared('t_one', 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
    expect(await pool.prepared('t_two', 'SELECT 2 AS two', [])).toEqual([{ two: 2 }]);
  });
});
