import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import fastifyCookie from '@fastify/cookie';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { registerBodyParsers } from './common/body-parsers';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import type { HttpReply, HttpRequest } from './common/http';
import { registerRequestContext, requestIdFor } from './common/request-context.hooks';
import { registerRequestLog } from './common/request-log';
import { registerSecurityHeaders } from './common/security-headers';
import { serverConfig, ServerConfig } from './config/config.namespaces';
import type { LatchkeyEnvironment, TrustProxy } from './config/environment';
import { registerProtocolHeaders } from './tokens/cors';

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
  env: Pick<LatchkeyEnvironment, 'trustProxy' | 'bodyLimit'>,
): FastifyAdapter {
  return new FastifyAdapter({
    trustProxy: fastifyTrustProxy(env.trustProxy),
    bodyLimit: env.bodyLimit,
    keepAliveTimeout: 5000, // Node's default (Fastify's own is 72 s)
    // a request must arrive whole within 60 s (Fastify's default is no limit: a body trickled a byte at a time
    // would hold its socket forever); 408 after that, as Node answers it
    requestTimeout: REQUEST_TIMEOUT_MS,
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
  app.useLogger(app.get(Logger));
  registerRequestContext(fastify);
  registerRequestLog(fastify, server.logLevel);
  registerBodyParsers(fastify, server.bodyLimit);
  await app.register(fastifyCookie);
  registerSecurityHeaders(fastify, server.secureCookies);
  registerProtocolHeaders(fastify);
  app.useGlobalPipes(validationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  app.enableShutdownHooks();

  const openapi = new DocumentBuilder()
    .setTitle('Latchkey admin API')
    .setDescription(
      'Client registry (scope clients:read / clients:write) and audit API (scope audit:read). ' +
        'Obtain a token with the client_credentials grant at POST /oauth/token.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openapi));
}
