import type { Params } from 'nestjs-pino';
import { textLogDestination } from './log-format';
import { currentRequestContext } from './request-context';

/** Fields that must never reach a log line, wherever they appear (bodies, queries, error objects). */
const SECRET_FIELDS = [
  'code',
  'code_verifier',
  'password',
  'client_secret',
  'refresh_token',
  'access_token',
  'token',
];

/**
 * nestjs-pino settings: JSON logs through one pino logger, secrets redacted, and every line written while a
 * request is handled carries its `reqId` (read from the request context when the line is written).
 *
 * `forRoutes: []`: nestjs-pino's middleware (pino-http) is mounted on no route. pino-http builds two child
 * loggers per request (serialising and redacting the request each time) even when nothing is logged:
 * measured at ~15 % of the CPU of an introspection. The request log is registerRequestLog's (request-log.ts) instead,
 * which costs nothing above `info`. (pino-http still creates the one root logger; it is only not mounted.)
 */
export function loggerParams(level: string, format: 'text' | 'json' = 'json'): Params {
  const options = {
    level,
    mixin: () => {
      const ctx = currentRequestContext();
      return ctx ? { reqId: ctx.requestId } : {};
    },
    // no request or response object is ever logged; a secret-named field in a logged object is censored
    redact: {
      paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]),
      censor: '[redacted]',
    },
  };
  // LOG_FORMAT=text: the same lines, formatted for people (log-format.ts), synchronously on stdout
  return { forRoutes: [], pinoHttp: format === 'text' ? [options, textLogDestination()] : options };
}
