import { jest } from '@jest/globals';
import { PGlitePool } from '../../src/database/pglite-pool';
import type { TestApp } from './test-app';

/**
 * The driver's pool behind the app's DataSource and the method that runs a named (prepared) statement on it —
 * PGlite's `prepared` or node-postgres' `query` — for tests that count or fail the statements a repository sends.
 */
export function statementRunner(t: TestApp): {
  pool: Record<string, (...args: unknown[]) => Promise<unknown>>;
  method: string;
} {
  const pool = (t.dataSource.driver as unknown as { master: object }).master;
  const method = pool instanceof PGlitePool ? 'prepared' : 'query';
  return { pool: pool as Record<string, (...args: unknown[]) => Promise<unknown>>, method };
}

/** Runs `work` and counts the named statements whose name starts with `namePrefix` that it sent. */
export async function countingStatements<T>(
  t: TestApp,
  namePrefix: string,
  work: () => Promise<T>,
): Promise<{ result: T; statements: number }> {
  const { pool, method } = statementRunner(t);
  const spy = jest.spyOn(pool, method);
  try {
    const result = await work();
    const statements = spy.mock.calls.filter((call) => JSON.stringify(call).includes(namePrefix)).length;
    return { result, statements };
  } finally {
    spy.mockRestore();
  }
}
