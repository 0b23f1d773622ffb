import type { FastifyInstance } from 'fastify';
import { PROTOCOL_ROUTE, routePath, type HttpReply, type HttpRequest } from './http';

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
 * CORS for the token and revocation endpoints (docs/tokens.md, CORS: "from the origins of the calling client's
 * registered redirect URIs"): the response carries `Access-Control-Allow-Origin` only when the request's
 * Origin is the origin of one of the client's redirect URIs. No credentials mode (no cookies here).
 */
export function allowCorsFrom(req: HttpRequest, reply: HttpReply, redirectUris: readonly string[]): void {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || !origin || reply.sent) return;
  varyOnOrigin(reply);
  if (redirectUris.some((uri) => originOf(uri) === origin)) {
    void reply.header('Access-Control-Allow-Origin', origin);
  }
}

function varyOnOrigin(reply: HttpReply): void {
  const vary = reply.getHeader('Vary');
  if (vary === undefined) void reply.header('Vary', 'Origin');
  else if (!/(^|,)\s*origin\s*(,|$)/i.test(String(vary)))
    void reply.header('Vary', `${String(vary)}, Origin`);
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
export function registerProtocolHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    const path = routePath(req);
    if (!PROTOCOL_ROUTE.test(path)) return done();
    void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    if (req.method !== 'OPTIONS' || path.startsWith('/oauth/introspect')) return done();
    const origin = req.headers.origin;
    varyOnOrigin(reply);
    if (typeof origin === 'string' && origin) {
      void reply
        .header('Access-Control-Allow-Origin', origin)
        .header('Access-Control-Allow-Methods', 'POST')
        .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, DPoP')
        .header('Access-Control-Max-Age', '600');
    }
    void reply.code(204).send();
  });
}
