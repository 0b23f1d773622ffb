import { Logger } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { requestPath } from './http';
import { runWithRequestContext } from './request-context';

const INFO_OR_LOWER = new Set(['info', 'debug', 'trace']);

/**
 * One line per finished request at LOG_LEVEL `info` or lower:
 * `{"reqId","context":"HTTP","method","url","statusCode","responseTime","msg":"request completed"}` (the
 * `reqId` comes from the logger's mixin). The URL is logged without its query string (a state or a challenge may be
 * in it), and health probes are not logged. A 5xx is logged at `error`; a request the client abandoned
 * says so (the line is written in the request's context, so it carries its `reqId` even then). Above
 * `info` no hook is added at all. Registered after registerRequestContext.
 */
export function registerRequestLog(fastify: FastifyInstance, logLevel: string): void {
  if (!INFO_OR_LOWER.has(logLevel)) return;
  const logger = new Logger('HTTP');
  fastify.addHook('onRequest', (req, reply, done) => {
    const url = requestPath(req);
    if (url === '/health' || url.startsWith('/health/')) return done();
    const started = Date.now();
    const res = reply.raw;
    res.once('close', () => {
      const line = {
        method: req.method,
        url,
        statusCode: res.statusCode,
        responseTime: Date.now() - started,
      };
      const write = () => {
        if (!res.writableFinished) logger.warn(line, 'request aborted');
        else if (res.statusCode >= 500) logger.error(line, 'request failed');
        else logger.log(line, 'request completed');
      };
      // 'close' of an abandoned request comes from the socket, outside the request's async context
      if (req.requestContext) runWithRequestContext(req.requestContext, write);
      else write();
    });
    done();
  });
}
