import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { preparedSql, sql } from '../database/sql';
import { sharedStatement, statementBatcher, type SharedWrite } from '../database/statement-batch';
import { liveSessionParams, type PresentedSession } from '../users/session-sql';
import { purgeExpiredRows } from '../database/expired-rows';
import {
  AUTHORIZE_BATCH_SQL,
  INSERT_CODE_FOR_SESSION_SQL,
  type CodeForSessionEvents,
  type CodeForSessionRow,
} from './authorization-codes.sql';

export type { CodeForSessionEvents };

export interface AuthorizationCodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  code_challenge: string;
  created_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
  grant_id: string | null;
  nonce: string | null;
  auth_time: Date | null;
  sid: string | null;
  /** RFC 9449 §10: the DPoP key the code is bound to (pushed with a DPoP proof) */
  dpop_jkt: string | null;
}

export interface NewAuthorizationCode {
  codeHash: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string;
  ttlSeconds: number;
  /** OIDC: the nonce sent at authorize (openid only) */
  nonce: string | null;
  /** OIDC: when the user signed in, and the session id — copied into the grant for every id_token */
  authTime: Date;
  sid: string;
  /** RFC 9449 §10: bind the code to this DPoP key (or null) */
  dpopJkt?: string | null;
}

/** What the hot path knows before the session is looked up (the session gives user, auth_time and sid). */
export type NewCodeForSession = Omit<NewAuthorizationCode, 'userId' | 'authTime' | 'sid'> & {
  /** max_age: issue only when the session signed in at most this many seconds ago */
  maxAgeSeconds: number | null;
};

const NO_EVENTS: CodeForSessionEvents = { requested: null, issued: null };

/** One authorize statement's parameters (`insertForSession`). */
interface CodeForSession {
  session: PresentedSession;
  code: NewCodeForSession;
  issue: boolean;
  events: CodeForSessionEvents;
}

const SHARED_AUTHORIZE: SharedWrite<CodeForSession> = {
  name: 'latchkey_insert_code_for_sessions',
  sqlBySize: AUTHORIZE_BATCH_SQL,
  width: 15,
  paramsOf: ({ session, code, issue, events }) => [
    ...liveSessionParams(session),
    ...codeParams(code, issue, events),
  ],
};

/** The code's and events' parameters of both authorize statements, after the session's ($4–$15, see insertForSession). */
function codeParams(code: NewCodeForSession, issue: boolean, events: CodeForSessionEvents): unknown[] {
  return [
    code.codeHash,
    code.clientId,
    code.redirectUri,
    code.scope,
    code.codeChallenge,
    code.ttlSeconds,
    issue,
    code.nonce,
    code.maxAgeSeconds,
    code.dpopJkt ?? null,
    events.requested,
    events.issued,
  ];
}

/** Authorization codes, stored only as SHA-256 hashes (the clear code exists only in the redirect). */
@Injectable()
export class AuthorizationCodesRepository {
  private readonly logger = new Logger(AuthorizationCodesRepository.name);
  /** Concurrent authorize statements share one (insertForSession). */
  private readonly authorizations = statementBatcher<CodeForSession, CodeForSessionRow | undefined>((batch) =>
    sharedStatement<CodeForSession, CodeForSessionRow>(this.dataSource, this.logger, SHARED_AUTHORIZE, batch),
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(code: NewAuthorizationCode): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at,
                                        nonce, auth_time, sid, dpop_jkt)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), $8, $9, $10, $11)`,
      [
        code.codeHash,
        code.clientId,
        code.userId,
        code.redirectUri,
        code.scope,
        code.codeChallenge,
        code.ttlSeconds,
        code.nonce,
        code.authTime,
        code.sid,
        code.dpopJkt ?? null,
      ],
    );
  }

  /**
   * The authorize hot path in one statement: looks the session up (sliding its idle expiry: session-sql.ts)
   * and, when `issue` is set and the user's remembered consent for the client covers every scope (array
   * containment: a superset), inserts the code for that user. Returns the session's user and whether the
   * code was inserted; undefined when the session is not live. With max_age, a session that signed in
   * too long ago gets no code (`fresh` false: the user must sign in again).
   *
   * Parameters: $1–$3 the session (liveSessionParams), $4 code hash, $5 client id, $6 redirect URI, $7 scope,
   * $8 code challenge, $9 lifetime (s), $10 whether to issue at all (false: a client that asks every time,
   * prompt=consent), $11 nonce, $12 max_age (s) or null, $13 the DPoP key the code is bound to (RFC 9449 §10)
   * or null, $14 and $15 the request's audit events the statement writes (CodeForSessionEvents).
   *
   * SHARED_STATEMENT_MIN or more calls made in the same turn of the event loop share one statement
   * (AUTHORIZE_BATCH_SQL), whose answer is final for each of them; when the database refused it (it then rolled
   * back), each call runs the statement of its own.
   */
  async insertForSession(
    session: PresentedSession,
    code: NewCodeForSession,
    issue: boolean,
    events: CodeForSessionEvents = NO_EVENTS,
  ): Promise<{ userId: string; inserted: boolean; fresh: boolean } | undefined> {
    const row =
      (await this.authorizations.load({ session, code, issue, events })) ??
      (
        await preparedSql<CodeForSessionRow>(
          this.dataSource,
          'latchkey_insert_code_for_session',
          INSERT_CODE_FOR_SESSION_SQL,
          [...liveSessionParams(session), ...codeParams(code, issue, events)],
        )
      )[0];
    return row?.user_id
      ? { userId: row.user_id, inserted: row.inserted === true, fresh: row.fresh === true }
      : undefined;
  }

  async findByHash(codeHash: string, manager?: EntityManager): Promise<AuthorizationCodeRow | undefined> {
    const rows = await sql<AuthorizationCodeRow>(
      manager ?? this.dataSource,
      `SELECT * FROM authorization_codes WHERE code_hash = $1`,
      [codeHash],
    );
    return rows[0];
  }

  /**
   * Marks the code used, atomically: of concurrent callers exactly one gets the row back
   * (PostgreSQL re-checks `consumed_at IS NULL` after the competing transaction commits).
   */
  async consumeByHash(codeHash: string, manager?: EntityManager): Promise<AuthorizationCodeRow | undefined> {
    const rows = await sql<AuthorizationCodeRow>(
      manager ?? this.dataSource,
      `UPDATE authorization_codes SET consumed_at = now()
        WHERE code_hash = $1 AND consumed_at IS NULL RETURNING *`,
      [codeHash],
    );
    return rows[0];
  }

  /** Housekeeping: deletes codes an hour past expiry (a replay of a just-expired code is still recognised). */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'authorization_codes', `expires_at < now() - interval '1 hour'`);
  }

  /**
   * Deletes the client's unconsumed authorization codes (a narrowed or disabled client: what they were issued
   * for may no longer hold), in the client change's transaction. Returns how many. (Pending authorization
   * requests are not stored: the consent step checks them against the client's current registration.)
   */
  async voidPendingAuthorizations(clientId: string, manager: EntityManager): Promise<{ codes: number }> {
    const [row] = await sql<{ codes: number }>(
      manager,
      `WITH c AS (DELETE FROM authorization_codes WHERE client_id = $1 AND consumed_at IS NULL RETURNING 1)
       SELECT (SELECT count(*) FROM c)::int AS codes`,
      [clientId],
    );
    return { codes: Number(row.codes) };
  }
}
