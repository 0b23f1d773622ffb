import type { CookieSerializeOptions } from '@fastify/cookie';
import type { HttpReply, HttpRequest } from '../http/http';

/**
 * Every cookie Latchkey sets: HttpOnly, SameSite=Lax, Path=/, and Secure when the issuer is https (then
 * with the `__Host-` prefix, which browsers accept only with Secure, Path=/ and no Domain: a sibling
 * subdomain cannot plant or overwrite it).
 */
export class CookieJar {
  constructor(private readonly secure: boolean) {}

  name(base: string): string {
    return this.secure ? `__Host-${base}` : base;
  }

  /** `maxAge` in seconds (Max-Age). */
  options(maxAgeSeconds?: number): CookieSerializeOptions {
    return {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path: '/',
      ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}),
    };
  }

  read(req: HttpRequest, base: string): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.name(base)];
    return typeof value === 'string' ? value : undefined;
  }

  set(res: HttpReply, base: string, value: string, maxAgeSeconds?: number): void {
    void res.setCookie(this.name(base), value, this.options(maxAgeSeconds));
  }

  /** Expires the cookie at once (Expires in 1970, as browsers expect). */
  clear(res: HttpReply, base: string): void {
    void res.setCookie(this.name(base), '', { ...this.options(), expires: new Date(0) });
  }
}

/** Opaque ids we issue (randomToken(): 43 base64url characters); anything else is not looked up. */
export const OPAQUE_ID = /^[A-Za-z0-9_-]{43}$/;
