import type { Params } from 'nestjs-pino';
import type { IncomingMessage } from 'node:http';
import { requestIdFor } from './request-context.middleware';

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

/** nestjs-pino settings: JSON logs, a request id per request, secrets redacted. */
export function loggerParams(level: string): Params {
  return {
    pinoHttp: {
      level,
      genReqId: (req: IncomingMessage) => requestIdFor(req as never),
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
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          // the query string may carry a state or a code_challenge: log the path only
          url: typeof req.url === 'string' ? req.url.split('?')[0] : req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
      quietReqLogger: true,
    },
  };
}
