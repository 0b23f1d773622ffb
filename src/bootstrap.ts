import { BadRequestException, INestApplication, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { serverConfig, ServerConfig } from './config/config.namespaces';

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

/**
 * Everything main.ts and the e2e tests share: the app the tests exercise is the app that runs.
 * Body parsing, cookies, helmet (CSP tuned so that form posts may redirect to a client's origin),
 * validation, the exception filter, OpenAPI and graceful shutdown.
 */
export function configureApp(app: INestApplication): void {
  const server = app.get<ServerConfig>(serverConfig.KEY);
  const express = app as NestExpressApplication;
  express.useLogger(app.get(Logger));
  express.set('trust proxy', server.trustProxy);
  express.disable('x-powered-by');
  express.set('etag', false);
  express.useBodyParser('json', { limit: server.bodyLimit });
  express.useBodyParser('urlencoded', { extended: false, limit: server.bodyLimit, parameterLimit: 100 });
  express.use(cookieParser());
  express.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'self'"],
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          'script-src': ["'self'"],
          'object-src': ["'none'"],
          'base-uri': ["'none'"],
          'frame-ancestors': ["'none'"],
          // no form-action: the consent form's POST redirects to the client's (other-origin) redirect URI
          ...(server.secureCookies ? { 'upgrade-insecure-requests': [] } : {}),
        },
      },
      hsts: server.secureCookies,
      crossOriginResourcePolicy: false,
    }),
  );
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
