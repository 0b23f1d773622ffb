import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { NextFunction, Request, Response } from 'express';
import { serverConfig, type ServerConfig } from '../config/config.namespaces';

const INFO_OR_LOWER = new Set(['info', 'debug', 'trace']);

/**
 * One line per finished request at LOG_LEVEL `info` or lower:
 * `{"reqId","context":"HTTP","method","url","statusCode","responseTime","msg":"request completed"}` (the
 * `reqId` comes from the logger's mixin). The URL is logged without its query string (a state or a challenge may be
 * in it), and health probes are not logged. A 5xx is logged at `error`; a request the client abandoned
 * says so (the line is written in the request's context, so it carries its `reqId` even then). Above
 * `info` the middleware does nothing at all.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');
  private readonly enabled: boolean;

  constructor(@Inject(serverConfig.KEY) server: ServerConfig) {
    this.enabled = INFO_OR_LOWER.has(server.logLevel);
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!this.enabled) return next();
    const url = req.originalUrl.split('?')[0];
    if (url === '/health' || url.startsWith('/health/')) return next();
    const started = Date.now();
    res.once(
      'close',
      // 'close' of an abandoned request comes from the socket, outside the request's async context
      AsyncLocalStorage.bind(() => {
        const line = {
          method: req.method,
          url,
          statusCode: res.statusCode,
          responseTime: Date.now() - started,
        };
        if (!res.writableFinished) this.logger.warn(line, 'request aborted');
        else if (res.statusCode >= 500) this.logger.error(line, 'request failed');
        else this.logger.log(line, 'request completed');
      }),
    );
    next();
  }
}
