import { compactDecrypt, CompactEncrypt } from 'jose';
import type { LatchkeyClientStore, PendingAuthorization, SessionTokens } from './client-store';

/** What PostgresClientStore needs of a database client: `pg`'s Pool and Client and PGlite all fit. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<{ rows: any[] }>;
}

export interface PostgresClientStoreOptions {
  /** e.g. `new Pool({ connectionString })` from `pg` */
  db: Queryable;
  /**
   * 32 random bytes, base64url (e.g. `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`): verifiers and
   * tokens are stored encrypted with it (A256GCM). Every instance needs the same key.
   */
  encryptionKey: string;
  /** table names are `<prefix>_pending` and `<prefix>_sessions` (default latchkey_client) */
  tablePrefix?: string;
  now?: () => number;
}

/**
 * The shared store for several instances: PostgreSQL 15+ (or PGlite). Creates its own two tables on first
 * use. Rows are keyed by the SHA-256 of `state` / the session id, and hold the verifier, nonce and tokens only
 * encrypted (JWE, dir + A256GCM, with jose). `takePending` is one `DELETE … RETURNING`: single-use even
 * between instances. Expired rows are never returned and are purged as new ones are written.
 */
/** What a CREATE … IF NOT EXISTS that loses a race with another session's can fail with: 23505, 42P07, 42710. */
const TABLE_RACE_CODES = new Set(['23505', '42P07', '42710']);

export class PostgresClientStore implements LatchkeyClientStore {
  private readonly key: Uint8Array;
  private readonly pendingTable: string;
  private readonly sessionsTable: string;
  private readonly now: () => number;
  private ready?: Promise<void>;
  private writes = 0;

  constructor(private readonly options: PostgresClientStoreOptions) {
    const key = Buffer.from(options.encryptionKey ?? '', 'base64url');
    if (key.length !== 32) throw new Error('PostgresClientStore: encryptionKey must be 32 bytes, base64url');
    this.key = new Uint8Array(key);
    const prefix = options.tablePrefix ?? 'latchkey_client';
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new Error('PostgresClientStore: invalid tablePrefix');
    this.pendingTable = `${prefix}_pending`;
    this.sessionsTable = `${prefix}_sessions`;
    this.now = options.now ?? Date.now;
  }

  /** Creates the tables if they do not exist (called on first use; idempotent, safe from several instances). */
  init(): Promise<void> {
    this.ready ??= this.createTables().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  private async createTables(): Promise<void> {
    for (const table of [this.pendingTable, this.sessionsTable]) {
      try {
        await this.options.db.query(
          `CREATE TABLE IF NOT EXISTS ${table} (
             key text PRIMARY KEY,
             sealed text NOT NULL,
             expires_at timestamptz NOT NULL
           )`,
        );
        await this.options.db.query(
          `CREATE INDEX IF NOT EXISTS ${table}_expires_at ON ${table} (expires_at)`,
        );
      } catch (e) {
        // two instances creating the table at once: one of them loses the race on the catalog (a unique
        // violation in pg_type/pg_class, "relation already exists" or "type already exists"); fine
        if (!TABLE_RACE_CODES.has((e as { code?: string }).code ?? '')) throw e;
      }
    }
  }

  async savePending(key: string, pending: PendingAuthorization): Promise<void> {
    await this.init();
    await this.options.db.query(
      `INSERT INTO ${this.pendingTable} (key, sealed, expires_at) VALUES ($1, $2, to_timestamp($3::float8 / 1000))
       ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`,
      [key, await this.seal(pending), pending.expiresAt],
    );
    await this.maybePurge();
  }

  async takePending(key: string): Promise<PendingAuthorization | undefined> {
    await this.init();
    const { rows } = await this.options.db.query(
      `DELETE FROM ${this.pendingTable} WHERE key = $1 RETURNING sealed`,
      [key],
    );
    if (rows.length === 0) return undefined;
    const pending = (await this.open(rows[0].sealed)) as PendingAuthorization;
    return pending.expiresAt > this.now() ? pending : undefined;
  }

  async saveSession(key: string, tokens: SessionTokens, expiresAt: number): Promise<void> {
    await this.init();
    await this.options.db.query(
      `INSERT INTO ${this.sessionsTable} (key, sealed, expires_at) VALUES ($1, $2, to_timestamp($3::float8 / 1000))
       ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`,
      [key, await this.seal({ tokens, expiresAt }), expiresAt],
    );
    await this.maybePurge();
  }

  async getSession(key: string): Promise<SessionTokens | undefined> {
    await this.init();
    const { rows } = await this.options.db.query(`SELECT sealed FROM ${this.sessionsTable} WHERE key = $1`, [
      key,
    ]);
    if (rows.length === 0) return undefined;
    const { tokens, expiresAt } = (await this.open(rows[0].sealed)) as {
      tokens: SessionTokens;
      expiresAt: number;
    };
    if (expiresAt <= this.now()) {
      await this.deleteSession(key);
      return undefined;
    }
    return tokens;
  }

  async deleteSession(key: string): Promise<void> {
    await this.init();
    await this.options.db.query(`DELETE FROM ${this.sessionsTable} WHERE key = $1`, [key]);
  }

  /** Deletes every expired row (also done every 100 writes). */
  async purgeExpired(): Promise<void> {
    await this.init();
    for (const table of [this.pendingTable, this.sessionsTable]) {
      await this.options.db.query(`DELETE FROM ${table} WHERE expires_at < to_timestamp($1::float8 / 1000)`, [
        this.now(),
      ]);
    }
  }

  private async maybePurge(): Promise<void> {
    if (++this.writes % 100 === 0) await this.purgeExpired();
  }

  private seal(value: unknown): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(JSON.stringify(value)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(this.key);
  }

  private async open(sealed: string): Promise<unknown> {
    const { plaintext } = await compactDecrypt(sealed, this.key, { keyManagementAlgorithms: ['dir'] });
    return JSON.parse(new TextDecoder().decode(plaintext));
  }
}
