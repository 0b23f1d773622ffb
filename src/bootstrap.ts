import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import fastifyCookie from '@fastify/cookie';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { registerBodyParsers } from './http/body-parsers';
import { setBranding } from './http/branding';
import { AllExceptionsFilter } from './http/all-exceptions.filter';
import type { HttpReply, HttpRequest } from './http/http';
import { quietFrameworkLogs } from './http/log-format';
import { registerRequestContext, requestIdFor } from './http/request-context.hooks';
import { registerRequestLog } from './http/request-log';
import { registerSecurityHeaders } from './http/security-headers';
import { OAuthConfig, oauthConfig, serverConfig, ServerConfig } from './config/config.namespaces';
import { setupOpenApi } from './openapi/openapi';
import type { LatchkeyEnvironment, TrustProxy } from './config/environment';
import { registerProtocolHeaders } from './http/cors';

/** Flattens class-validator errors to `{ field: [messages] }` with dotted paths for nested fields. */
export function validationFields(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[path] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, validationFields(e.children, path));
  }
  return out;
}

export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const fields = validationFields(errors);
      return new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: Object.entries(fields).flatMap(([, m]) => m),
        fields,
      });
    },
  });
}

/** How long a request may take to arrive, headers and body (Node's headersTimeout is 60 s too). */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The HTTP platform: Fastify, chosen by measurement (README, Performance: a NestJS 12 app's floor is ~0.04 ms of
 * CPU per request on Fastify against ~0.2 ms on Express). Proxy trust (TRUST_PROXY: the client IP is the
 * right-most X-Forwarded-For address that is not a trusted proxy), the body limit (BODY_LIMIT, refused with 413 before the body is read when Content-Length says
 * so). Fastify sends no `X-Powered-By` and no ETag.
 */
export function createHttpAdapter(
  env: Pick<LatchkeyEnvironment, 'trustProxy' | 'bodyLimit'> &
    Partial<Pick<LatchkeyEnvironment, 'maxConnections' | 'headersTimeoutMs'>>,
): FastifyAdapter {
  const headersTimeout = Math.min(env.headersTimeoutMs ?? 10_000, REQUEST_TIMEOUT_MS);
  const adapter = new FastifyAdapter({
    trustProxy: fastifyTrustProxy(env.trustProxy),
    bodyLimit: env.bodyLimit,
    keepAliveTimeout: 5000, // Node's default (Fastify's own is 72 s)
    // a request must arrive whole within 60 s (Fastify's default is no limit: a body trickled a byte at a time
    // would hold its socket forever); 408 after that, as Node answers it
    requestTimeout: REQUEST_TIMEOUT_MS,
    // slow connections (issue 20, finding 4): the headers must arrive within HEADERS_TIMEOUT (10 s; Node's is 60 s)
    // and Node checks for late ones every second at most (its default is every 30 s, so a connection that sent
    // nothing lived up to 90 s)
    http: {
      headersTimeout,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 2))),
    },
    // /oauth/token/ is /oauth/token; an over-long path parameter (an unknown client id) reaches its handler (→ 404)
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    // a URL Fastify cannot decode (`/%E0%A4%A`) is refused before any hook: the same 400 shape as every error
    frameworkErrors: (_error: Error, req: HttpRequest, reply: HttpReply) => {
      const requestId = requestIdFor(req);
      void reply
        .code(400)
        .header('X-Request-Id', requestId)
        .send({ statusCode: 400, error: 'Bad Request', message: 'malformed URL', request_id: requestId });
    },
  });
  // MAX_CONNECTIONS (issue 20, finding 4): beyond it Node closes a new connection at once, before the file
  // descriptors run out (when they do, every accept fails, the database's included)
  const server = adapter.getInstance().server;
  if (env.maxConnections) server.maxConnections = env.maxConnections;
  // Node's headersTimeout only starts with a request's first byte: a connection that sends nothing at all was
  // kept forever. It gets HEADERS_TIMEOUT of inactivity to start a request; once one arrives the timer is off
  // (keepAliveTimeout covers idle keep-alive connections, and a long response must not be cut)
  server.on('connection', (socket: Socket) => socket.setTimeout(headersTimeout));
  server.on('timeout', (socket: Socket) => {
    // (a 'timeout' listener on the server replaces Node's plain destroy: answer 408 as Node's own timeouts do)
    socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    socket.destroySoon();
  });
  server.on('request', (req: IncomingMessage) => req.socket.setTimeout(0));
  return adapter;
}

/**
 * TRUST_PROXY in Fastify's terms (proxy-addr walks the chain from the socket peer leftwards and stops at the
 * first address it does not trust: that is the client). A hop count is a function, not a number: Fastify's
 * numeric form was seen to trust nothing (STACK-NOTES).
 */
export function fastifyTrustProxy(
  trust: TrustProxy,
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if ('hops' in trust) {
    const hops = trust.hops;
    return (_address, hop) => hop < hops;
  }
  return trust.addresses;
}

/**
 * Everything main.ts and the e2e tests share: the app the tests exercise is the app that runs.
 * Request context and request log, body parsing, cookies, helmet's security headers (security-headers.ts), the
 * protocol endpoints' headers, validation, the exception filter, OpenAPI and
 * graceful shutdown. Call before `listen()` / `init()`.
 */
export async function configureApp(app: NestFastifyApplication): Promise<void> {
  const server = app.get<ServerConfig>(serverConfig.KEY);
  const fastify = app.getHttpAdapter().getInstance();
  app.useLogger(quietFrameworkLogs(app.get(Logger)));
  setBranding(server.branding);
  registerRequestContext(fastify);
  registerRequestLog(fastify, server.logLevel);
  registerBodyParsers(fastify, server.bodyLimit);
  await app.register(fastifyCookie);
  const logo = server.branding.logoUrl;
  registerSecurityHeaders(fastify, server.secureCookies, logo ? [new URL(logo).origin] : []);
  registerProtocolHeaders(fastify);
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();

  setupOpenApi(app, server, app.get<OAuthConfig>(oauthConfig.KEY).scopes);
}
