import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The HTTP platform is Fastify (@nestjs/platform-fastify), chosen by measurement (README, Performance).
 * Code that needs the request or the reply names these aliases, so that the platform is named in one place.
 */
export type HttpRequest = FastifyRequest;
export type HttpReply = FastifyReply;

declare module 'fastify' {
  interface FastifyRequest {
    /** What a passport strategy authenticated (set by @nestjs/passport's AuthGuard). */
    user?: unknown;
  }
}

/** The protocol endpoints (token, revocation, introspection, PAR), as a `routePath`. */
export const PROTOCOL_ROUTE = /^\/oauth\/(token|revoke|introspect|par)\/?$/;

/** The request's path, without the query string (e.g. `/oauth/token`). */
export function requestPath(req: { url: string }): string {
  const q = req.url.indexOf('?');
  return q < 0 ? req.url : req.url.slice(0, q);
}

/**
 * The path of the route serving the request (`/oauth/token`, `/admin/clients/:client_id`), or the request's path
 * when no route matches. Every decision by path (rate limits, protocol headers, error format) uses this, never
 * the raw URL: the router decodes percent-escapes, so `/oauth/%74oken` is served by `/oauth/token`.
 */
export function routePath(req: { url: string; routeOptions?: { url?: string } }): string {
  return req.routeOptions?.url ?? requestPath(req);
}

/** The request's media type, lower-cased, without parameters (`application/json`), or undefined. */
export function mediaTypeOf(req: {
  headers: Record<string, string | string[] | undefined>;
}): string | undefined {
  const header = req.headers['content-type'];
  if (typeof header !== 'string') return undefined;
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase() || undefined;
}

/** A parsed body's named parameters (JSON object or form), or undefined when the body is not an object. */
export function bodyOf(req: { body?: unknown }): Record<string, unknown> | undefined {
  const body = req.body;
  return body !== null && typeof body === 'object' && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : undefined;
}

/** Sends an HTML page that no cache may keep. */
export function sendHtml(reply: HttpReply, status: number, html: string): void {
  void reply.code(status).header('Cache-Control', 'no-store').type('text/html; charset=utf-8').send(html);
}

/** A 302 that nobody caches (RFC 6749 §5.1 spirit: responses carrying codes are never stored). */
export function redirect(reply: HttpReply, location: string): void {
  void reply.header('Cache-Control', 'no-store').redirect(location, 302);
}
