import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { currentRequestContext, runWithRequestContext } from '../../../src/common/request-context';
import { RequestLogMiddleware } from '../../../src/common/request-log.middleware';
import type { ServerConfig } from '../../../src/config/config.namespaces';

function fakeExchange(url: string) {
  const req = { method: 'POST', originalUrl: url } as never;
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false });
  return { req, res };
}

const context = (requestId: string) => ({
  requestId,
  ip: '127.0.0.1',
  userAgent: null,
  startedAt: process.hrtime.bigint(),
  path: '/login',
});

describe('RequestLogMiddleware', () => {
  const seen: Array<{ level: string; line: Record<string, unknown>; msg: string; reqId?: string }> = [];
  const record = (level: string) =>
    function (this: unknown, line: unknown, msg: unknown) {
      seen.push({
        level,
        line: line as Record<string, unknown>,
        msg: String(msg),
        reqId: currentRequestContext()?.requestId, // what the logger's mixin would add
      });
    };
  beforeEach(() => {
    seen.length = 0;
    jest.spyOn(Logger.prototype, 'log').mockImplementation(record('info'));
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(record('warn'));
    jest.spyOn(Logger.prototype, 'error').mockImplementation(record('error'));
  });
  afterEach(() => jest.restoreAllMocks());

  const middleware = (logLevel: string) => new RequestLogMiddleware({ logLevel } as ServerConfig);

  it('logs an abandoned request in its own context, even though the socket closes it from outside', async () => {
    const { req, res } = fakeExchange('/login?request=secret-request-id');
    const next = jest.fn();
    runWithRequestContext(context('req-abandoned'), () => middleware('info').use(req, res as never, next));
    expect(next).toHaveBeenCalled();
    await new Promise((resolve) => setImmediate(resolve)); // leave the request's context
    expect(currentRequestContext()).toBeUndefined();
    res.emit('close');
    expect(seen).toEqual([
      {
        level: 'warn',
        msg: 'request aborted',
        reqId: 'req-abandoned',
        line: { method: 'POST', url: '/login', statusCode: 200, responseTime: expect.any(Number) },
      },
    ]);
  });

  it('logs a finished request as completed, a 5xx as failed', () => {
    for (const [status, level, msg] of [
      [302, 'info', 'request completed'],
      [503, 'error', 'request failed'],
    ] as const) {
      const { req, res } = fakeExchange('/oauth/authorize?state=s');
      runWithRequestContext(context(`req-${status}`), () =>
        middleware('info').use(req, res as never, () => {}),
      );
      Object.assign(res, { statusCode: status, writableFinished: true });
      res.emit('close');
      expect(seen.pop()).toMatchObject({
        level,
        msg,
        reqId: `req-${status}`,
        line: { url: '/oauth/authorize' },
      });
    }
  });

  it('does nothing above info, and never logs health probes', () => {
    for (const [level, url] of [
      ['warn', '/oauth/token'],
      ['info', '/health'],
      ['info', '/health/ready'],
    ]) {
      const { req, res } = fakeExchange(url);
      const next = jest.fn();
      middleware(level).use(req, res as never, next);
      expect(next).toHaveBeenCalled();
      expect(res.listenerCount('close')).toBe(0);
    }
  });
});
