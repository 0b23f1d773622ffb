import type { Params } from 'nestjs-pino';
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
 * `useExisting`: nestjs-pino does not mount pino-http. pino-http builds two child loggers per request
 * (serialising and redacting the request each time) even when nothing is logged: measured at ~15 % of the
 * CPU of an introspection. The request log is RequestLogMiddleware's instead, which costs nothing above
 * `info`; and with no request logger to bind, nestjs-pino's own middleware is mounted nowhere (`forRoutes`).
 */
export function loggerParams(level: string): Params {
  return {
    useExisting: true,
    forRoutes: [],
    pinoHttp: {
      level,
      mixin: () => {
        const ctx = currentRequestContext();
        return ctx ? { reqId: ctx.requestId } : {};
      },
      // the redirect after authorization carries the code in Location; request bodies are never logged
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          'res.headers.location',
          ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `req.query.${f}`, `req.body.${f}`]),
        ],
        censor: '[redacted]',
      },
    },
  };
}
