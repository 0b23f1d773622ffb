/**
 * The session lookup as SQL, for statements that need the signed-in user and do something with it in the
 * same round trip (the authorize hot path: session + consent + code insert in one statement).
 *
 * `liveSessionCtes(p)` yields two CTEs, `live` (id_hash, user_id of the live session, if any) and `touched`
 * (the sliding idle expiry, written at most once per touch interval), for the parameters
 * `$p` = SHA-256 of the session id, `$p+1` = idle lifetime (s), `$p+2` = touch interval (s).
 * SessionsRepository.findLive uses the very same text, so the rules live in one place.
 */
export function liveSessionCtes(p: number): string {
  return `live AS (
         SELECT id_hash, user_id FROM sessions
          WHERE id_hash = $${p}::text AND idle_expires_at > now() AND absolute_expires_at > now()
       ), touched AS (
         UPDATE sessions
            SET last_seen_at = now(),
                idle_expires_at = LEAST(now() + make_interval(secs => $${p + 1}::float8), absolute_expires_at)
          WHERE id_hash IN (SELECT id_hash FROM live)
            AND last_seen_at < now() - make_interval(secs => $${p + 2}::float8)
       )`;
}

/** A session cookie as presented (not yet looked up): what `liveSessionCtes` needs, in parameter order. */
export interface PresentedSession {
  /** the opaque id from the cookie (binds CSRF tokens to this session) */
  sessionId: string;
  idHash: string;
  idleSeconds: number;
  touchAfterSeconds: number;
}

export function liveSessionParams(session: PresentedSession): [string, number, number] {
  return [session.idHash, session.idleSeconds, session.touchAfterSeconds];
}
