import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fewer and cheaper index entries per audit event (issue 18; docs/audit.md, Performance, has the table of
 * every index of audit_events, who reads it and what it costs):
 * - (outcome, occurred_at) indexed every event under one of two values; only failures (~14 %) need an
 *   index to be found in time order (GET /audit/events?outcome=failure, failure_rate_spike's samples):
 *   a partial index on their time replaces it. Successes are found as fast through the primary key.
 * - challenge_reuse compared the challenge hashes (64 characters) of every issued code through the rows;
 *   it now compares 64-bit hashes of them (rolled up for closed days) and reads only the events of the
 *   repeated ones, through an index on that 64-bit hash instead of the text.
 * - login_bruteforce read every failed login's row (4 % of events, spread over every page of the table);
 *   a partial index holding the columns it reads serves it without reading rows.
 *
 * Not in a transaction: each new index is built partition by partition with CREATE INDEX CONCURRENTLY and
 * attached to an index created ON ONLY the parent (valid once every partition has its own), so inserts never
 * wait for a build (a plain CREATE INDEX on the table would block them for the whole migration: ~15 s at
 * 10 M events). A new index exists before the one it replaces is dropped (a short lock per partition). An
 * interrupted run leaves the parent index invalid, and running the migration again completes it.
 */
export class AuditEventIndexes1764963600000 implements MigrationInterface {
  name = 'AuditEventIndexes1764963600000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await buildConcurrently(
      q,
      'audit_events_failure_time_idx',
      'failure_time_idx',
      `(occurred_at) WHERE outcome = 'failure'`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_outcome_idx`);
    await buildConcurrently(
      q,
      'audit_events_challenge_hash_idx',
      'challenge_hash_idx',
      `((hashtextextended(details->>'challenge_sha256', 0)), occurred_at) WHERE type = 'authorization_code.issued'`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_challenge_idx`);
    await buildConcurrently(
      q,
      'audit_events_login_failed_idx',
      'login_failed_idx',
      `(occurred_at) INCLUDE (subject, ip, reason, id) WHERE type = 'login.failed'`,
    );
  }

  /**
   * Plain CREATE INDEX (inserts wait while it builds): down must also run inside the transaction TypeORM's
   * undo opens whatever the migration says.
   */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS audit_events_login_failed_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_challenge_idx ON audit_events ((details->>'challenge_sha256'), occurred_at)
        WHERE type = 'authorization_code.issued'`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_challenge_hash_idx`);
    await q.query(
      `CREATE INDEX IF NOT EXISTS audit_events_outcome_idx ON audit_events (outcome, occurred_at)`,
    );
    await q.query(`DROP INDEX IF EXISTS audit_events_failure_time_idx`);
  }
}

/**
 * The index `name` on audit_events, built without blocking writes: an index ON ONLY the parent, then one per
 * partition (CREATE INDEX CONCURRENTLY, named `<partition>_<suffix>`) attached to it. Partitions created
 * meanwhile get theirs from the parent; partitions dropped meanwhile are skipped. Idempotent.
 */
async function buildConcurrently(q: QueryRunner, name: string, suffix: string, definition: string) {
  await q.query(`CREATE INDEX IF NOT EXISTS ${name} ON ONLY audit_events ${definition}`);
  for (let pass = 0; pass < 3; pass++) {
    const missing: Array<{ partition: string }> = await q.query(
      `SELECT c.relname AS partition FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass('audit_events')
          AND NOT EXISTS (SELECT 1 FROM pg_inherits a JOIN pg_index x ON x.indexrelid = a.inhrelid
                           WHERE a.inhparent = to_regclass($1) AND x.indrelid = c.oid)
        ORDER BY c.relname`,
      [name],
    );
    if (missing.length === 0) break;
    for (const { partition } of missing) {
      const child = `${partition}_${suffix}`;
      try {
        await q.query(`DROP INDEX IF EXISTS ${child}`); // left invalid by an interrupted build
        await q.query(`CREATE INDEX CONCURRENTLY ${child} ON ${partition} ${definition}`);
        await q.query(`ALTER INDEX ${name} ATTACH PARTITION ${child}`);
      } catch (err) {
        const code = (err as { code?: string; driverError?: { code?: string } }).code;
        if (code !== '42P01') throw err; // 42P01: the partition was dropped meanwhile (retention)
      }
    }
  }
  const [valid]: Array<{ valid: boolean }> = await q.query(
    `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass($1)`,
    [name],
  );
  if (!valid?.valid) throw new Error(`index ${name} is not valid: run the migrations again`);
}
