import type { NextFunction, Request, Response } from 'express';

/** The origin of a registered redirect URI (http/https only; private-use schemes have none). */
export function originOf(uri: string): string | null {
  try {
    const url = new URL(uri);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/**
 * CORS for the token and revocation endpoints (CONTRACT.md: "from the origins of the calling client's
 * registered redirect URIs"): the response carries `Access-Control-Allow-Origin` only when the request's
 * Origin is the origin of one of the client's redirect URIs. No credentials mode (no cookies here).
 */
export function allowCorsFrom(req: Request, res: Response, redirectUris: readonly string[]): void {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || !origin || res.headersSent) return;
  res.vary('Origin');
  if (redirectUris.some((uri) => originOf(uri) === origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
  }
}

/**
 * Every response of /oauth/token, /oauth/revoke and /oauth/introspect: `Cache-Control: no-store` and
 * `Pragma: no-cache` (RFC 6749 §5.1), errors included.
 *
 * Preflight (OPTIONS) of /oauth/token and /oauth/revoke: a preflight carries no client_id, so it is allowed
 * for any origin and the actual request decides — its response carries Access-Control-Allow-Origin only for
 * the calling client's redirect-URI origins, so a page of any other origin cannot read it. (The form POST
 * itself is a CORS "simple request" that browsers send without a preflight anyway; the preflight only
 * matters for the Authorization header, which carries a secret that page would need to know.)
 * Introspection is for resource servers, not browsers: no CORS there.
 */
export function protocolHeaders(req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  if (req.method === 'OPTIONS' && !/^\/oauth\/introspect\b/.test(req.originalUrl)) {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (typeof origin === 'string' && origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'POST');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
    return;
  }
  next();
}
