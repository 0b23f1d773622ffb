import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedSql, sql } from '../database/sql';
import { FIND_LIVE_SESSION_SQL } from './session-sql';
import { purgeExpiredRows } from '../database/expired-rows';

export interface LiveSessionRow {
  user_id: string;
  /** when the user signed in (the session's creation): OIDC auth_time */
  auth_time: Date;
  /** the OIDC session id (`sid`) */
  sid: string;
}

/** Server-side sessions, keyed by the SHA-256 of the opaque id in the cookie (the id itself is never stored). */
@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(idHash: string, userId: string, idleSeconds: number, absoluteSeconds: number): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO sessions (id_hash, user_id, idle_expires_at, absolute_expires_at)
       VALUES ($1, $2, now() + make_interval(secs => LEAST($3::float8, $4::float8)), now() + make_interval(secs => $4))`,
      [idHash, userId, idleSeconds, absoluteSeconds],
    );
  }

  /**
   * The live session's user, in one round trip. Sliding idle expiry: the session is touched at most once
   * per `touchAfterSeconds`, so that a busy session is not a write per request (see session-sql.ts).
   */
  async findLive(
    idHash: string,
    idleSeconds: number,
    touchAfterSeconds: number,
  ): Promise<LiveSessionRow | undefined> {
    const rows = await preparedSql<LiveSessionRow>(
      this.dataSource,
      'latchkey_find_live_session',
      FIND_LIVE_SESSION_SQL,
      [idHash, idleSeconds, touchAfterSeconds],
    );
    return rows[0];
  }

  /** Ends every session of a user (disabled, password changed, deleted); returns how many. */
  async deleteAllOfUser(userId: string): Promise<number> {
    const rows = await sql<{ n: number }>(
      this.dataSource,
      `WITH d AS (DELETE FROM sessions WHERE user_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [userId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Ends a session; returns its user when it existed. */
  async delete(idHash: string): Promise<string | undefined> {
    const rows = await sql<{ user_id: string }>(
      this.dataSource,
      `DELETE FROM sessions WHERE id_hash = $1 RETURNING user_id`,
      [idHash],
    );
    return rows[0]?.user_id;
  }

  /** Housekeeping: deletes sessions past their idle or absolute expiry. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(
      this.dataSource,
      'sessions',
      `idle_expires_at < now() OR absolute_expires_at < now()`,
    );
  }
}
