import { Inject, Injectable } from '@nestjs/common';
import type { HttpReply, HttpRequest } from '../http/http';
import { randomToken, sha256Hex } from '../common/crypto';
import { oauthConfig, serverConfig, type OAuthConfig, type ServerConfig } from '../config/config.namespaces';
import { CookieJar, OPAQUE_ID } from './cookies';
import type { PresentedSession } from './session-sql';
import { SessionsRepository } from './sessions.repository';

export const SESSION_COOKIE = 'lk_session';

/** The signed-in user behind a request's session cookie. */
export interface CurrentSession {
  userId: string;
  /** the opaque id from the cookie (binds CSRF tokens to this session) */
  sessionId: string;
  /** when the user signed in (OIDC auth_time) */
  authTime: Date;
  /** the OIDC session id (`sid` claim); not a secret */
  sid: string;
}

/**
 * Server-side sessions without express-session: an opaque 256-bit id in an HttpOnly cookie, only its
 * SHA-256 in the `sessions` table, idle expiry (SESSION_IDLE_TTL, sliding) and absolute expiry
 * (SESSION_ABSOLUTE_TTL). A new id at every login (no session fixation).
 */
@Injectable()
export class SessionsService {
  readonly cookies: CookieJar;
  private readonly touchAfter: number;

  constructor(
    private readonly sessions: SessionsRepository,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
    @Inject(serverConfig.KEY) server: ServerConfig,
  ) {
    this.cookies = new CookieJar(server.secureCookies);
    // refresh the idle deadline at most every minute (or a quarter of a short idle lifetime)
    this.touchAfter = Math.min(60, Math.floor(oauth.sessionIdleTtl / 4));
  }

  /**
   * The session cookie this request presents, ready for a lookup (no database): null without a well-formed
   * one. For statements that look the session up themselves (session-sql.ts); otherwise use `current`.
   */
  presented(req: HttpRequest): PresentedSession | null {
    return this.read(req)?.presented ?? null;
  }

  /** The live session of this request, or null (no cookie, unknown, expired or ended). */
  async current(req: HttpRequest): Promise<CurrentSession | null> {
    const cookie = this.read(req);
    if (!cookie) return null;
    const { idHash, idleSeconds, touchAfterSeconds } = cookie.presented;
    const row = await this.sessions.findLive(idHash, idleSeconds, touchAfterSeconds);
    return row
      ? { userId: row.user_id, sessionId: cookie.sessionId, authTime: new Date(row.auth_time), sid: row.sid }
      : null;
  }

  private read(req: HttpRequest): { sessionId: string; presented: PresentedSession } | null {
    const sessionId = this.cookies.read(req, SESSION_COOKIE);
    if (!sessionId || !OPAQUE_ID.test(sessionId)) return null;
    return {
      sessionId,
      presented: {
        idHash: sha256Hex(sessionId),
        idleSeconds: this.oauth.sessionIdleTtl,
        touchAfterSeconds: this.touchAfter,
      },
    };
  }

  /** Signs the user in: ends the session the browser had (rotation), creates a new one, sets the cookie. */
  async start(
    req: HttpRequest,
    res: HttpReply,
    userId: string,
  ): Promise<{ userId: string; sessionId: string }> {
    const previous = this.cookies.read(req, SESSION_COOKIE);
    if (previous && OPAQUE_ID.test(previous)) await this.sessions.delete(sha256Hex(previous));
    const sessionId = randomToken();
    await this.sessions.insert(
      sha256Hex(sessionId),
      userId,
      this.oauth.sessionIdleTtl,
      this.oauth.sessionAbsoluteTtl,
    );
    this.cookies.set(res, SESSION_COOKIE, sessionId, this.oauth.sessionAbsoluteTtl);
    return { userId, sessionId };
  }

  /** Ends every session of a user (account disabled, password changed or account deleted). */
  endAllOf(userId: string): Promise<number> {
    return this.sessions.deleteAllOfUser(userId);
  }

  /** Signs out: deletes the session and clears the cookie. Returns the user it belonged to, if any. */
  async end(req: HttpRequest, res: HttpReply): Promise<string | undefined> {
    const sessionId = this.cookies.read(req, SESSION_COOKIE);
    this.cookies.clear(res, SESSION_COOKIE);
    if (!sessionId || !OPAQUE_ID.test(sessionId)) return undefined;
    return this.sessions.delete(sha256Hex(sessionId));
  }
}
