import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { requestPath, type HttpRequest } from './http';
import { ipBucket } from './ip-bucket';
import { runWithRequestContext, type RequestContext } from './request-context';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request arrives (see registerRequestContext). */
    requestContext: RequestContext | null;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Normalises IPv4-mapped IPv6 addresses so that one client has one address in the audit trail. */
export function normaliseIp(ip: string | undefined): string | null {
  if (!ip) return null;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function requestIdFor(req: Pick<HttpRequest, 'headers'>): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The request context (request id, ip — through trusted proxies' X-Forwarded-For per TRUST_PROXY —, user agent, start time,
 * path) of every request:
 * - `onRequest`: built, kept on the request, and the id echoed in `X-Request-Id`;
 * - `preValidation` (after the body is read, before guards and handlers): entered, so that every audit event
 *   and log line of the request carries it. A body arrives in stream events outside the request's async
 *   context, hence the second hook.
 */
export function registerRequestContext(fastify: FastifyInstance): void {
  fastify.decorateRequest('requestContext', null);
  fastify.addHook('onRequest', (req, reply, done) => {
    const requestId = requestIdFor(req);
    void reply.header('X-Request-Id', requestId);
    const ua = req.headers['user-agent'];
    const context: RequestContext = {
      requestId,
      ip: normaliseIp(req.ip),
      userAgent: typeof ua === 'string' ? ua : null,
      startedAt: process.hrtime.bigint(),
      path: requestPath(req),
    };
    req.requestContext = context;
    runWithRequestContext(context, done);
  });
  fastify.addHook('preValidation', (req, _reply, done) => {
    if (req.requestContext) runWithRequestContext(req.requestContext, done);
    else done();
  });
}

/** The per-IP limit key of a request's client (its request context's IP, IPv6 by /64: see ipBucket). */
export function requestIpBucket(req: HttpRequest): string {
  return ipBucket(req.requestContext?.ip ?? normaliseIp(req.ip));
}
