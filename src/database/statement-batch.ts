import type { LoggerService } from '@nestjs/common';
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable, isStatementTimeout } from '../common/database-errors';
import { preparedSql } from './sql';

/**
 * Statement batching: calls of one hot statement that reach a repository in the same turn of the event loop
 * (concurrent requests) are answered by one statement over a `VALUES` list of their parameters — one round trip,
 * one plan execution and one commit for all of them. Used by the access-token state check and the introspection
 * statement (reads), the DPoP replay store and the pushed requests (inserts and takes), and the refresh rotation,
 * the code exchange and the authorize statement (writes: sharedStatement below); docs/performance.md has the
 * measurements.
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

/**
 * Fewer concurrent calls of a shared write than this run one statement each: measured on the refresh rotation
 * (docs/performance.md), the shared statement costs PostgreSQL more per row than a statement of its own until
 * about this many share it. The code exchange and the authorize statement use the same threshold.
 */
export const SHARED_STATEMENT_MIN = 4;

/** The sizes a shared write statement is prepared in (its `sqlBySize` keys). */
export const SHARED_STATEMENT_SIZES: readonly number[] = STATEMENT_BATCH_SIZES.filter(
  (size) => size >= SHARED_STATEMENT_MIN,
);

/** A write that several callers' calls can share (refresh rotation, code exchange, authorize): see sharedStatement. */
export interface SharedWrite<K> {
  /** the prepared statements' name, `_N` appended for size N */
  name: string;
  /** the statement's text by size (SHARED_STATEMENT_SIZES); its result row `i` answers call `i` */
  sqlBySize: ReadonlyMap<number, string>;
  /** parameters per call, in the order of the `VALUES` row */
  width: number;
  paramsOf: (key: K) => readonly unknown[];
}

/**
 * The calls of a batch made by one shared write statement, by position: undefined for a call the statement did not
 * make (each such caller then runs a statement of its own, which waits for locks and decides — so no caller waits
 * for another's lock). A batch smaller than SHARED_STATEMENT_MIN is left to its own statements. A statement the database
 * refused rolled back, so it made none of them (logged: the database's message and a count, nothing of the calls).
 * When the database cannot be reached, or the statement timed out, the batch fails, as each call alone would.
 */
export async function sharedStatement<K, R extends object>(
  dataSource: DataSource,
  logger: LoggerService,
  write: SharedWrite<K>,
  batch: readonly K[],
): Promise<(R | undefined)[]> {
  const results: (R | undefined)[] = batch.map(() => undefined);
  if (batch.length < SHARED_STATEMENT_MIN) return results;
  const size = statementBatchSize(batch.length);
  let rows: (R & { i: number })[];
  try {
    rows = await preparedSql<R & { i: number }>(
      dataSource,
      `${write.name}_${size}`,
      write.sqlBySize.get(size)!,
      valuesParams(batch, size, write.width, write.paramsOf),
    );
  } catch (err) {
    if (isDatabaseUnavailable(err) || isStatementTimeout(err)) throw err;
    logger.warn(
      `a shared statement (${write.name}) of ${batch.length} calls failed (${(err as Error)?.message}); each runs on its own`,
    );
    return results;
  }
  for (const { i, ...row } of rows) if (i < results.length) results[i] = row as unknown as R;
  return results;
}

/**
 * A batch's reads or inserts run by `statement` (row `i` of its answer answers call `i`). When the database refuses
 * the shared statement (a row it would not store), each call runs a statement of its own, so that only the call it
 * refuses fails — logged with the database's message and a count, nothing of the calls. When the database cannot be
 * reached, or the statement timed out, the batch fails, as each call alone would.
 */
export async function eachAloneIfRefused<K, V>(
  logger: LoggerService,
  what: string,
  batch: readonly K[],
  statement: (calls: readonly K[]) => Promise<V[]>,
): Promise<(V | Error)[]> {
  try {
    return await statement(batch);
  } catch (err) {
    if (batch.length === 1 || isDatabaseUnavailable(err) || isStatementTimeout(err)) throw err;
    logger.warn(
      `a shared statement (${what}) of ${batch.length} calls failed (${(err as Error)?.message}); each runs on its own`,
    );
    return Promise.all(
      batch.map((call) =>
        statement([call]).then(
          ([result]): V | Error => result,
          (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
        ),
      ),
    );
  }
}

/**
 * For single-use keys (a DPoP proof, a request_uri): calls of one batch with the same key go to `run` once, the
 * first of them getting its answer and the others `repeat` — as if they had come just after it.
 */
export async function firstUseOfEachKey<K, V>(
  batch: readonly K[],
  keyOf: (call: K) => string,
  run: (distinct: readonly K[]) => Promise<(V | Error)[]>,
  repeat: V,
): Promise<(V | Error)[]> {
  const first = new Map<string, number>();
  batch.forEach((call, i) => {
    const key = keyOf(call);
    if (!first.has(key)) first.set(key, i);
  });
  const positions = [...first.values()];
  const answers = await run(positions.map((i) => batch[i]));
  const results: (V | Error)[] = batch.map(() => repeat);
  positions.forEach((i, j) => (results[i] = answers[j]));
  return results;
}
