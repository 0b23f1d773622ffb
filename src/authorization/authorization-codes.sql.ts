import { insertStagedAudit } from '../audit/audit-sql';
import { SHARED_STATEMENT_SIZES, valuesRows } from '../database/statement-batch';
import { liveSessionBatchCtes, liveSessionCtes } from '../users/session-sql';

/*
 * The SQL texts of the authorize statement (AuthorizationCodesRepository.insertForSession) and of its shared form,
 * kept apart from the repository's methods, as tokens/tokens.sql.ts is. Only the repository runs them.
 */

/**
 * The authorize rules both statements below apply to the live session `live`: whether it signed in recently enough
 * for max_age (`maxAge`: seconds, or null), and whether the user's remembered consent for the client covers every
 * scope asked for (array containment: a superset).
 */
const FRESH = (maxAge: string) =>
  `(${maxAge} IS NULL OR live.auth_time >= now() - make_interval(secs => ${maxAge}))`;
const CONSENTED = (clientId: string, scope: string) =>
  `EXISTS (SELECT 1 FROM consents c WHERE c.user_id = live.user_id AND c.client_id = ${clientId}
             AND string_to_array(c.scope, ' ') @> string_to_array(${scope}, ' '))`;

/** The authorize hot path's one statement (see `insertForSession`). */
export const INSERT_CODE_FOR_SESSION_SQL = `WITH ${liveSessionCtes(1)}, issued AS (
   INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at,
                                    nonce, auth_time, sid, dpop_jkt)
   SELECT $4::text, $5::text, live.user_id, $6::text, $7::text, $8::text, now() + make_interval(secs => $9::float8),
          $11::text, live.auth_time, live.sid, $13::text
     FROM live
    WHERE $10::boolean AND ${FRESH('$12::float8')} AND ${CONSENTED('$5::text', '$7::text')}
   RETURNING 1
 ), requested_event AS (
   ${insertStagedAudit({ row: '$14::jsonb', from: '(VALUES (1)) AS one(x)' })}
 ), issued_event AS (
   ${insertStagedAudit({ row: '$15::jsonb', from: 'live', where: 'EXISTS (SELECT 1 FROM issued)', subject: 'live.user_id' })}
 )
 SELECT live.user_id, EXISTS (SELECT 1 FROM issued) AS inserted, ${FRESH('$12::float8')} AS fresh
   FROM live`;

/** What the authorize statement answers: the session's user, whether the code was inserted, whether fresh. */
export interface CodeForSessionRow {
  user_id: string | null;
  inserted: boolean;
  fresh: boolean;
}

/**
 * The request's audit events the authorize statement writes in its transaction (staged rows, audit/audit-sql.ts;
 * null: none): `requested` always, `issued` (its subject the session's user) only with the code.
 */
export interface CodeForSessionEvents {
  requested: string | null;
  issued: string | null;
}

/**
 * Concurrent authorize statements in one (database/statement-batch.ts), by size: INSERT_CODE_FOR_SESSION_SQL's
 * rules per `VALUES` row (the session's by liveSessionBatchCtes), result row `i` answering call `i` — a row for
 * every call, its user_id null when the session is not live, so every answer is final. Nothing here waits for a
 * lock: the session is read, its touch skips a row another transaction holds, and the code is a new row.
 */
export const AUTHORIZE_BATCH_SQL = new Map(
  SHARED_STATEMENT_SIZES.map((size) => {
    const casts = [
      'bpchar',
      'float8',
      'float8',
      'bpchar',
      'text',
      'text',
      'text',
      'text',
      'float8',
      'boolean',
      'text',
      'float8',
      'text',
      'jsonb',
      'jsonb',
    ];
    const text = `WITH k(id_hash, idle_s, touch_s, code_hash, client_id, redirect_uri, scope, code_challenge, ttl_s,
                   issue, nonce, max_age_s, dpop_jkt, requested_event, issued_event, i) AS (
         VALUES ${valuesRows(size, casts)}
       ), ${liveSessionBatchCtes('k')}, issued AS (
         INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at,
                                          nonce, auth_time, sid, dpop_jkt)
         SELECT code_hash, client_id, user_id, redirect_uri, scope, code_challenge, now() + make_interval(secs => ttl_s),
                nonce, auth_time, sid, dpop_jkt
           FROM live
          WHERE issue AND ${FRESH('max_age_s')} AND ${CONSENTED('live.client_id', 'live.scope')}
         RETURNING code_hash, user_id
       ), requested_event AS (
         ${insertStagedAudit({ row: 'k.requested_event', from: 'k' })}
       ), issued_event AS (
         ${insertStagedAudit({ row: 'k.issued_event', from: 'issued JOIN k ON k.code_hash = issued.code_hash', subject: 'issued.user_id' })}
       )
       SELECT k.i, live.user_id, EXISTS (SELECT 1 FROM issued WHERE issued.code_hash = k.code_hash) AS inserted,
              ${FRESH('live.max_age_s')} AS fresh
         FROM k LEFT JOIN live ON live.i = k.i
        WHERE k.id_hash IS NOT NULL`;
    return [size, text] as const;
  }),
);
