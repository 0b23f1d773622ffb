import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import type { Client } from 'pg';

/**
 * A pg-compatible pool over one PGlite instance, handed to TypeORM as its `driver`.
 *
 * PGlite is a single session. typeorm-pglite gives that one session to every QueryRunner at once, so one
 * request's COMMIT/ROLLBACK interleaves with another's transaction (docs/architecture.md, PGlite transactions). Here `connect()`
 * grants an exclusive lease that lasts until `release()`: transactions are serialized and isolated.
 * A lease that cannot be had within `leaseTimeoutMs` fails loudly: it means code inside a transaction
 * queried outside the transaction's EntityManager (which would deadlock on a one-connection pool).
 */
export class PGlitePool extends EventEmitter {
  private leased = false;
  private readonly waiters: Array<() => void> = [];
  private ended = false;
  /** node-postgres over PGlite's wire protocol, for named prepared statements (see `prepared`). */
  private statementClient?: Promise<Client>;

  constructor(
    readonly db: PGlite,
    private readonly leaseTimeoutMs = 15_000,
  ) {
    super();
  }

  connect(callback?: (err: Error | null, client?: PGliteClient, release?: (err?: unknown) => void) => void) {
    const promise = this.acquire().then(() => {
      const client = new PGliteClient(this.db, () => this.releaseLease());
      return client;
    });
    if (!callback) return promise;
    promise.then(
      (client) => callback(null, client, (err?: unknown) => client.release(err)),
      (err: Error) => callback(err),
    );
    return undefined;
  }

  async query(text: string, params?: unknown[]) {
    await this.acquire();
    try {
      return await runQuery(this.db, text, params);
    } finally {
      this.releaseLease();
    }
  }

  /**
   * Runs one statement as a named prepared statement, parsed and planned once for the PGlite session instead
   * of on every call (a hot UPDATE … RETURNING: ~240 → ~145 µs). PGlite's own `query` has no named statements;
   * its node-postgres adapter (`@electric-sql/pglite/node-postgres`) speaks the wire protocol, so one long-lived
   * pg `Client` prepares each name once and then only binds and executes. The lease keeps it out of every other
   * caller's transaction. Rows are shaped by pg's type parsers, as on PostgreSQL.
   */
  async prepared(name: string, text: string, params: unknown[]): Promise<unknown[]> {
    await this.acquire();
    try {
      const client = await this.statementClientOrConnect();
      const result = await client.query({ name, text, values: params });
      return result.rows as unknown[];
    } finally {
      this.releaseLease();
    }
  }

  /**
   * The statement client, connected on first use. A client whose connection failed is dropped (its `error` is
   * handled, never an uncaught exception) and the next call connects a new one, which first deallocates the
   * statements its predecessor prepared in the session.
   */
  private statementClientOrConnect(): Promise<Client> {
    if (this.statementClient) return this.statementClient;
    const drop = () => {
      if (this.statementClient === connecting) this.statementClient = undefined;
    };
    const connecting = this.connectStatementClient(drop);
    connecting.catch(drop);
    this.statementClient = connecting;
    return connecting;
  }

  private async connectStatementClient(onError: () => void): Promise<Client> {
    const [{ createPgConfig }, pg] = await Promise.all([
      import('@electric-sql/pglite/node-postgres'),
      import('pg'),
    ]);
    const Pg = (pg as unknown as { default?: typeof pg }).default ?? pg;
    const client = new Pg.Client(createPgConfig(this.db as never) as never);
    client.on('error', onError);
    await client.connect();
    await client.query('DEALLOCATE ALL');
    return client;
  }

  /** The one connection in use (0/1) and the callers waiting for it (metrics). */
  get usage(): { total: number; busy: number; waiting: number } {
    return { total: 1, busy: this.leased ? 1 : 0, waiting: this.waiters.length };
  }

  /** Ends the pool and closes PGlite, flushing its files (data survives a Ctrl-C). */
  end(callback?: (err?: Error) => void) {
    this.ended = true;
    const statementClient = this.statementClient;
    this.statementClient = undefined;
    void statementClient?.then((client) => client.end()).catch(() => undefined);
    const closing = this.db.closed ? Promise.resolve() : this.db.close();
    const done = closing.then(
      () => callback?.(),
      (err: Error) => callback?.(err),
    );
    return done;
  }

  private acquire(): Promise<void> {
    if (this.ended) return Promise.reject(new Error('PGlite pool has ended'));
    if (!this.leased) {
      this.leased = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(
          new Error(
            `PGlite connection lease not granted within ${this.leaseTimeoutMs} ms: ` +
              'a query ran outside the transaction it belongs to, or a transaction is stuck',
          ),
        );
      }, this.leaseTimeoutMs);
      this.waiters.push(grant);
    });
  }

  private releaseLease() {
    const next = this.waiters.shift();
    if (next) next();
    else this.leased = false;
  }
}

class PGliteClient extends EventEmitter {
  private released = false;

  constructor(
    private readonly db: PGlite,
    private readonly onRelease: () => void,
  ) {
    super();
  }

  query(
    text: string,
    params?: unknown[] | ((err: Error | null, res?: unknown) => void),
    cb?: (err: Error | null, res?: unknown) => void,
  ) {
    if (typeof params === 'function') {
      cb = params;
      params = undefined;
    }
    const promise = runQuery(this.db, text, params as unknown[] | undefined);
    if (!cb) return promise;
    const callback = cb;
    promise.then(
      (res) => callback(null, res),
      (err: Error) => callback(err),
    );
    return undefined;
  }

  release(_err?: unknown) {
    if (this.released) return;
    this.released = true;
    this.onRelease();
  }
}

const COMMAND = /^\s*(?:\/\*[\s\S]*?\*\/\s*)*([A-Za-z]+)/;

/** Runs one query and shapes the result like pg's: { rows, rowCount, command, fields }. */
async function runQuery(db: PGlite, text: string, params?: unknown[]) {
  const command = (COMMAND.exec(text)?.[1] ?? '').toUpperCase();
  if (!params || params.length === 0) {
    // Simple protocol: allows several statements (migrations); the last result is the answer.
    const results = await db.exec(text);
    const last = results[results.length - 1];
    const rows = last?.rows ?? [];
    return { rows, rowCount: last?.affectedRows ?? rows.length, command, fields: last?.fields ?? [] };
  }
  const result = await db.query(text, params.map(normaliseParam));
  return {
    rows: result.rows,
    rowCount: result.affectedRows ?? result.rows.length,
    command,
    fields: result.fields,
  };
}

/** pg serialises arrays of primitives and objects for us; PGlite needs JSON for jsonb objects. */
function normaliseParam(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date || Buffer.isBuffer(value) || value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** The module-shaped object TypeORM expects in place of `require('pg')`. */
export function pgliteDriver(pool: PGlitePool) {
  return {
    Pool: class {
      constructor() {
        return pool;
      }
    },
    defaults: {},
  };
}
