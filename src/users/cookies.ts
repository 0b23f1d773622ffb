import type { CookieOptions, Request, Response } from 'express';

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

  options(maxAgeSeconds?: number): CookieOptions {
    return {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.secure,
      path: '/',
      ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds * 1000 } : {}),
    };
  }

  read(req: Request, base: string): string | undefined {
    const value = (req.cookies as Record<string, unknown> | undefined)?.[this.name(base)];
    return typeof value === 'string' ? value : undefined;
  }

  set(res: Response, base: string, value: string, maxAgeSeconds?: number): void {
    res.cookie(this.name(base), value, this.options(maxAgeSeconds));
  }

  clear(res: Response, base: string): void {
    res.clearCookie(this.name(base), this.options());
  }
}

/** Opaque ids we issue (randomToken(): 43 base64url characters); anything else is not looked up. */
export const OPAQUE_ID = /^[A-Za-z0-9_-]{43}$/;
