import { Inject, Injectable } from '@nestjs/common';
import { bodyOf, type HttpReply, type HttpRequest } from '../http/http';
import { constantTimeEqual, hmacHex, randomToken } from '../common/crypto';
import { serverConfig, type ServerConfig } from '../config/config.namespaces';
import { CookieJar, OPAQUE_ID } from './cookies';

export const CSRF_COOKIE = 'lk_csrf';
/** The hidden form field carrying the token. */
export const CSRF_FIELD = '_csrf';

/** What a form's token is for; a token for one purpose is refused for another. */
export type CsrfPurpose = 'login' | 'consent' | 'logout';

/**
 * CSRF protection for the HTML forms (signed double-submit): a random value in an HttpOnly cookie, and in
 * the form HMAC-SHA256(SESSION_SECRET, purpose + cookie value + binding). The binding is the session id for
 * forms shown to a signed-in user (consent, sign-out), so that a token is useless in another session. A
 * cross-site page can neither read the cookie nor compute the HMAC; SameSite=Lax is a second fence.
 */
@Injectable()
export class CsrfService {
  private readonly cookies: CookieJar;
  private readonly secret: Buffer;

  constructor(@Inject(serverConfig.KEY) server: ServerConfig) {
    this.cookies = new CookieJar(server.secureCookies);
    this.secret = server.sessionSecret;
  }

  /** The token to put in a form rendered for this response (sets the CSRF cookie when the browser has none). */
  issue(req: HttpRequest, res: HttpReply, purpose: CsrfPurpose, binding = ''): string {
    let seed = this.cookies.read(req, CSRF_COOKIE);
    if (!seed || !OPAQUE_ID.test(seed)) {
      seed = randomToken();
      this.cookies.set(res, CSRF_COOKIE, seed);
      // later reads in this request (a second form) use the same seed
      (req.cookies as Record<string, string>)[this.cookies.name(CSRF_COOKIE)] = seed;
    }
    return this.token(seed, purpose, binding);
  }

  /** True when the submitted form carries the token matching this browser's cookie (and binding). */
  /** Clears the CSRF cookie (a logout ends everything the browser holds). */
  clear(res: HttpReply): void {
    this.cookies.clear(res, CSRF_COOKIE);
  }

  verify(req: HttpRequest, purpose: CsrfPurpose, binding = ''): boolean {
    const seed = this.cookies.read(req, CSRF_COOKIE);
    const submitted = bodyOf(req)?.[CSRF_FIELD];
    if (!seed || !OPAQUE_ID.test(seed) || typeof submitted !== 'string') return false;
    return constantTimeEqual(submitted, this.token(seed, purpose, binding));
  }

  private token(seed: string, purpose: CsrfPurpose, binding: string): string {
    return hmacHex(this.secret, `csrf\n${purpose}\n${seed}\n${binding}`);
  }
}
