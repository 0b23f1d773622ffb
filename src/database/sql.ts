import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs one raw SQL statement and returns its rows, whatever the statement. (TypeORM's `query` returns
 * `[rows, rowCount]` for UPDATE/DELETE and plain rows otherwise; this hides the difference.)
 * Use `$1…$n` placeholders. Pass the transaction's EntityManager inside a transaction.
 */
export async function sql<T = Record<string, unknown>>(
  db: DataSource | EntityManager,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result = await db.query(text, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}
