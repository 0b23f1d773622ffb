import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';

export interface LockoutPolicy {
  /** consecutive failures that lock the key */
  threshold: number;
  /** first lock, seconds; each further lock doubles it */
  baseSeconds: number;
  maxSeconds: number;
  /** failures and lock level are forgotten after this long without an attempt */
  resetSeconds: number;
}

/** An attempt whose verdict is not recorded within this many seconds is forgotten (a crashed instance). */
const PENDING_VERDICT_SECONDS = 60;

/**
 * The one writer of `lockouts`, shared by every instance: per-username login lockouts (kind 'user', for the
 * users module's LoginLockoutService) and failed client authentication per (client_id, IP) (kind 'client',
 * key "client_id|ip", for the token endpoint's ClientAuthenticator). Others use it through Lockouts.
 *
 * Login:
 * An attempt is counted BEFORE the password is checked (`beginAttempt`), so that N concurrent guesses
 * cannot all slip in before the first failure is written: only `threshold` attempts are let through per
 * lock period. A failure then locks the key once the count reaches the threshold (`recordFailure`); a
 * success deletes the row (`reset`).
 */
@Injectable()
export class LockoutsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Counts an attempt whose verdict is pending. `admitted` is false when the key is locked, or when
   * `threshold` attempts are already pending (their verdicts decide: a success resets the count, failures
   * lock) — the caller then waits for them instead of guessing in parallel.
   */
  async beginAttempt(key: string, policy: LockoutPolicy): Promise<{ admitted: boolean; locked: boolean }> {
    const locked = `(l.locked_until IS NOT NULL AND l.locked_until > now())`;
    const quiet = `(l.updated_at < now() - make_interval(secs => $3))`;
    // verdicts older than this are never coming (a crashed instance): start counting again
    const pending = `(l.failures >= $2 AND l.updated_at > now() - make_interval(secs => ${PENDING_VERDICT_SECONDS}))`;
    const full = `(NOT ${quiet} AND ${pending})`;
    // Admitted exactly when the row is inserted or updated: a locked or full key is left untouched (the
    // DO UPDATE's WHERE), and then no row comes back. (Not `updated_at = now()`: PGlite's clock has millisecond
    // resolution, so two attempts in one millisecond looked alike.)
    const admitted = await sql(
      this.dataSource,
      `INSERT INTO lockouts AS l (kind, key, failures, level, locked_until, updated_at)
       VALUES ('user', $1, 1, 0, NULL, now())
       ON CONFLICT (kind, key) DO UPDATE SET
         failures = CASE WHEN ${quiet} OR l.failures >= $2 THEN 1 ELSE l.failures + 1 END,
         level = CASE WHEN ${quiet} THEN 0 ELSE l.level END,
         updated_at = now()
       WHERE NOT ${locked} AND NOT ${full}
       RETURNING 1`,
      [key, policy.threshold, policy.resetSeconds],
    );
    if (admitted.length > 0) return { admitted: true, locked: false };
    const rows = await sql<{ locked: boolean }>(
      this.dataSource,
      `SELECT (locked_until IS NOT NULL AND locked_until > now()) AS locked FROM lockouts WHERE kind = 'user' AND key = $1`,
      [key],
    );
    return { admitted: false, locked: rows[0]?.locked === true };
  }

  /** Records a failed attempt's verdict; locks the key when the threshold is reached. Returns the lock end, if set now. */
  async recordFailure(key: string, policy: LockoutPolicy): Promise<Date | undefined> {
    const rows = await sql<{ locked_until: Date }>(
      this.dataSource,
      `UPDATE lockouts
          SET locked_until = now() + make_interval(secs => LEAST($3::float8 * power(2, LEAST(level, 30)), $4::float8)),
              level = level + 1, failures = 0, updated_at = now()
        WHERE kind = 'user' AND key = $1 AND failures >= $2
          AND NOT (locked_until IS NOT NULL AND locked_until > now())
        RETURNING locked_until`,
      [key, policy.threshold, policy.baseSeconds, policy.maxSeconds],
    );
    return rows[0]?.locked_until;
  }

  async reset(key: string): Promise<void> {
    await sql(this.dataSource, `DELETE FROM lockouts WHERE kind = 'user' AND key = $1`, [key]);
  }

  /** Client authentication: true while the (client_id, IP) key is locked out. */
  async isClientLocked(key: string): Promise<boolean> {
    const rows = await sql<{ locked: boolean }>(
      this.dataSource,
      `SELECT (locked_until IS NOT NULL AND locked_until > now()) AS locked
         FROM lockouts WHERE kind = 'client' AND key = $1`,
      [key],
    );
    return rows[0]?.locked === true;
  }

  /**
   * Client authentication: counts one failure (one statement). Failures older than the window, or from before a
   * lock that has ended, no longer count. Reaching `limit` locks the key for `windowSeconds`.
   */
  async recordClientFailure(
    key: string,
    limit: number,
    windowSeconds: number,
  ): Promise<{ failures: number; locked: boolean }> {
    const rows = await sql<{ failures: number; locked: boolean }>(
      this.dataSource,
      `INSERT INTO lockouts AS l (kind, key, failures, level, locked_until, updated_at)
       VALUES ('client', $1, 1, 0,
               CASE WHEN $2::int <= 1 THEN now() + make_interval(secs => $3::int) END, now())
       ON CONFLICT (kind, key) DO UPDATE SET
         failures = CASE WHEN l.updated_at <= now() - make_interval(secs => $3::int)
                               OR COALESCE(l.locked_until <= now(), false)
                         THEN 1 ELSE l.failures + 1 END,
         locked_until = CASE WHEN (CASE WHEN l.updated_at <= now() - make_interval(secs => $3::int)
                                             OR COALESCE(l.locked_until <= now(), false)
                                        THEN 1 ELSE l.failures + 1 END) >= $2::int
                             THEN now() + make_interval(secs => $3::int) END,
         updated_at = now()
       RETURNING failures::int AS failures, (locked_until IS NOT NULL) AS locked`,
      [key, limit, windowSeconds],
    );
    return { failures: Number(rows[0].failures), locked: rows[0].locked === true };
  }

  /** Housekeeping: forgets keys neither locked nor tried for a day. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(
      this.dataSource,
      'lockouts',
      `(locked_until IS NULL OR locked_until < now()) AND updated_at < now() - interval '1 day'`,
    );
  }
}
