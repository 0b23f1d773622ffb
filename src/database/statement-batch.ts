import DataLoader from 'dataloader';

/**
 * Statement batching: calls of one hot statement that reach a repository in the same turn of the event loop
 * (concurrent requests) are answered by one statement over a `VALUES` list of their parameters — one round trip,
 * one plan execution and one commit for all of them. Used by the access-token state check (read) and the refresh
 * rotation (write); docs/performance.md has the measurements.
 *
 * The `VALUES` list has a fixed size (the next of STATEMENT_BATCH_SIZES, padded with NULL rows that match
 * nothing), one named prepared statement per size, so that PostgreSQL plans each size once and keeps the plan.
 * (An array parameter, `unnest($1)`, is re-planned on every call: its generic plan assumes ten elements and so
 * always looks dearer than a plan made for the actual one or two.)
 */
export const STATEMENT_BATCH_SIZES: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/** At most this many calls share one statement. */
export const STATEMENT_BATCH_MAX = STATEMENT_BATCH_SIZES.at(-1)!;

/** The statement size that holds `count` calls. */
export function statementBatchSize(count: number): number {
  const size = STATEMENT_BATCH_SIZES.find((s) => s >= count);
  if (size === undefined)
    throw new RangeError(`a statement batch holds at most ${STATEMENT_BATCH_MAX} calls`);
  return size;
}

/**
 * The rows of a `VALUES` list for `size` calls of `casts.length` parameters each (`$n::cast`), each row ending
 * with its 0-based position — the column that tells the statement's result rows apart. For `casts` ['uuid',
 * 'text'] and size 2: `($1::uuid, $2::text, 0), ($3::uuid, $4::text, 1)`.
 */
export function valuesRows(size: number, casts: readonly string[]): string {
  const width = casts.length;
  return Array.from(
    { length: size },
    (_, i) => `(${casts.map((cast, c) => `$${i * width + c + 1}::${cast}`).join(', ')}, ${i})`,
  ).join(', ');
}

/** The flat parameter list of `valuesRows(size, …)` for these calls: NULLs for the padding rows. */
export function valuesParams<K>(
  keys: readonly K[],
  size: number,
  width: number,
  paramsOf: (key: K) => readonly unknown[],
): unknown[] {
  const params: unknown[] = [];
  for (const key of keys) params.push(...paramsOf(key));
  for (let i = keys.length; i < size; i++) for (let c = 0; c < width; c++) params.push(null);
  return params;
}

/**
 * Collects the calls made in one turn of the event loop and hands them to `load` together, at most
 * STATEMENT_BATCH_MAX at a time. Nothing is cached: every call is answered by a statement that ran after it was
 * made (a DataLoader without its cache is only the batching).
 */
export function statementBatcher<K, V>(
  load: (keys: readonly K[]) => Promise<ArrayLike<V | Error>>,
): DataLoader<K, V> {
  return new DataLoader<K, V>(load, {
    cache: false,
    maxBatchSize: STATEMENT_BATCH_MAX,
    // after the I/O callbacks of this turn: the requests that arrived together are in the batch
    batchScheduleFn: (dispatch) => setImmediate(dispatch),
  });
}
