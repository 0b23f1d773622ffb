/** The session rules both forms below share (one place): live, the touch (sliding idle expiry) and when it is due. */
const LIVE = `idle_expires_at > now() AND absolute_expires_at > now()`;
const TOUCH = (idleSeconds: string) =>
  `last_seen_at = now(), idle_expires_at = LEAST(now() + make_interval(secs => ${idleSeconds}), absolute_expires_at)`;
const TOUCH_DUE = (touchAfterSeconds: string) =>
  `last_seen_at < now() - make_interval(secs => ${touchAfterSeconds})`;

/**
 * The session lookup as SQL, for statements that need the signed-in user and do something with it in the
 * same round trip (the authorize hot path: session + consent + code insert in one statement, composed by
 * AuthorizationCodesRepository). The users module owns the `sessions` table and these rules; a caller only
 * embeds the text and passes `liveSessionParams` first.
 *
 * `liveSessionCtes(p)` yields two CTEs, `live` (id_hash, user_id, auth_time — the login, i.e. the session's
 * creation — and sid, the OIDC session id, of the live session, if any) and `touched`
 * (the sliding idle expiry, written at most once per touch interval), for the parameters
 * `$p` = SHA-256 of the session id, `$p+1` = idle lifetime (s), `$p+2` = touch interval (s).
 * SessionsRepository.findLive uses the very same text, so the rules live in one place.
 *
 * `$p` stays uncast on purpose: `id_hash` is char(64), and a `text` parameter would make PostgreSQL compare
 * `id_hash::text` — a sequential scan instead of the primary key (test/integration/query-plans.int-spec.ts).
 */
export function liveSessionCtes(p: number): string {
  return `live AS (
         SELECT id_hash, user_id, created_at AS auth_time, sid FROM sessions
          WHERE id_hash = $${p} AND ${LIVE}
       ), touched AS (
         UPDATE sessions
            SET ${TOUCH(`$${p + 1}::float8`)}
          WHERE id_hash IN (SELECT id_hash FROM live)
            AND ${TOUCH_DUE(`$${p + 2}::float8`)}
       )`;
}

/**
 * `liveSessionCtes` for several presented sessions in one statement (AuthorizationCodesRepository's shared
 * authorize statement). `k` names a CTE with the columns `id_hash` (char(64)), `idle_s` and `touch_s` (the
 * parameters of liveSessionCtes, per row) and `i`; yields `live` (each of k's rows whose session is live, with its
 * columns and the session's user_id, auth_time and sid) and `touched` (the sliding idle expiry, as above). The
 * touch skips a session another transaction holds (`SKIP LOCKED`): a shared statement never waits for a lock
 * while it holds others, and that transaction is touching (or ending) the session itself.
 */
export function liveSessionBatchCtes(k: string): string {
  return `live AS (
         SELECT ${k}.*, s.user_id, s.auth_time, s.sid
           FROM ${k} CROSS JOIN LATERAL (
             SELECT user_id, created_at AS auth_time, sid FROM sessions
              WHERE id_hash = ${k}.id_hash AND ${LIVE}
           ) s
       ), touchable AS (
         SELECT l.id_hash, l.idle_s
           FROM live l CROSS JOIN LATERAL (
             SELECT 1 FROM sessions
              WHERE id_hash = l.id_hash AND ${TOUCH_DUE('l.touch_s')}
                FOR UPDATE SKIP LOCKED
           ) x
       ), touched AS (
         UPDATE sessions
            SET ${TOUCH('t.idle_s')}
           FROM touchable t
          WHERE sessions.id_hash = t.id_hash
       )`;
}

/** The live session's user (SessionsRepository.findLive), with `liveSessionParams`. */
export const FIND_LIVE_SESSION_SQL = `WITH ${liveSessionCtes(1)} SELECT user_id, auth_time, sid FROM live`;

/** A session cookie as presented (not yet looked up): what `liveSessionCtes` needs. */
export interface PresentedSession {
  /** SHA-256 (hex) of the opaque id in the cookie; the id itself never leaves the users module */
  idHash: string;
  idleSeconds: number;
  touchAfterSeconds: number;
}

/** The three parameters of `liveSessionCtes`, in order. */
export function liveSessionParams(session: PresentedSession): [string, number, number] {
  return [session.idHash, session.idleSeconds, session.touchAfterSeconds];
}
