import type { LatchkeyClientOptions } from './client.options';

/** The parts of a request/response the module touches, on Express and on Fastify alike. */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  url: string;
  originalUrl?: string;
}
export interface ResponseLike {
  header(name: string, value: string | string[]): unknown;
}

export const DEFAULT_COOKIE_NAME = 'latchkey_session';

/** The value of one cookie of the request (first occurrence), or undefined. */
export function readCookie(req: RequestLike, name: string): string | undefined {
  const header = req.headers.cookie;
  const lines = Array.isArray(header) ? header : header ? [header] : [];
  for (const line of lines) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** Set-Cookie for the session id (or its deletion when `sessionId` is undefined): HttpOnly, SameSite=Lax, Path=/. */
export function sessionCookie(options: LatchkeyClientOptions, sessionId: string | undefined): string {
  const name = options.cookie?.name ?? DEFAULT_COOKIE_NAME;
  const secure = options.cookie?.secure ?? new URL(options.redirectUri).protocol === 'https:';
  const maxAge = sessionId ? (options.sessionTtlSeconds ?? 8 * 3600) : 0;
  return [
    `${name}=${sessionId ?? ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${maxAge}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function cookieName(options: LatchkeyClientOptions): string {
  return options.cookie?.name ?? DEFAULT_COOKIE_NAME;
}
