import type { DataSource } from 'typeorm';
import { sql } from './sql';

/** Rows deleted per table by one purge. */
export type PurgeCounts = Record<string, number>;

/**
 * What a module gives housekeeping: it deletes its own tables' expired rows when asked (housekeeping knows no
 * table). Each module's `*.purge.ts` implements it by calling its repositories.
 */
export interface ExpiredRowsPurge {
  purgeExpired(): Promise<PurgeCounts>;
}

const BATCH = 5000;

/**
 * Deletes `table`'s rows matching `condition` in batches of 5,000 (no long locks; `FOR UPDATE SKIP LOCKED` lets
 * instances share the work instead of waiting on each other), then VACUUMs the table if it lost rows, so that
 * their space is reused at once (PGlite runs no autovacuum at all; on PostgreSQL autovacuum would get there,
 * later). Called by the table's own repository, which alone knows the condition.
 */
export async function purgeExpiredRows(db: DataSource, table: string, condition: string): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await sql(
      db,
      `DELETE FROM ${table} WHERE ctid IN (
         SELECT ctid FROM ${table} WHERE ${condition} LIMIT ${BATCH} FOR UPDATE SKIP LOCKED
       ) RETURNING 1 AS x`,
    );
    total += rows.length;
    if (rows.length < BATCH) break;
  }
  if (total > 0) await sql(db, `VACUUM ${table}`);
  return total;
}
