import { Logger } from '@nestjs/common';
import { jest } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { currentRequestContext } from '../../../src/http/request-context';
import { registerRequestLog } from '../../../src/http/request-log';
import type { RequestContext } from '../../../src/http/request-context';

type OnRequest = (req: unknown, reply: unknown, done: () => void) => void;

/** The request log's onRequest hook, as registered on a (fake) Fastify instance; none above info. */
function hookFor(logLevel: string): OnRequest | undefined {
  const hooks: OnRequest[] = [];
  registerRequestLog({ addHook: (_name: string, hook: OnRequest) => hooks.push(hook) } as never, logLevel);
  return hooks[0];
}

function fakeExchange(url: string, requestContext: RequestContext | null = null) {
  const req = { method: 'POST', url, requestContext };
  const res = Object.assign(new EventEmitter(), { statusCode: 200, writableFinished: false });
  return { req, reply: { raw: res }, res };
}

const context = (requestId: string) => ({
  requestId,
  ip: '127.0.0.1',
  userAgent: null,
  startedAt: process.hrtime.bigint(),
  path: '/login',
});

describe('request log (registerRequestLog)', () => {
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

  it('logs an abandoned request in its own context, even though the socket closes it from outside', async () => {
    const { req, reply, res } = fakeExchange('/login?request=secret-request-id', context('req-abandoned'));
    const next = jest.fn();
    hookFor('info')!(req, reply, next);
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
      const { req, reply, res } = fakeExchange('/oauth/authorize?state=s', context(`req-${status}`));
      hookFor('info')!(req, reply, () => {});
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

  it('adds no hook above info, and never logs health probes', () => {
    expect(hookFor('warn')).toBeUndefined();
    expect(hookFor('error')).toBeUndefined();
    for (const url of ['/health', '/health/ready', '/health?x=1']) {
      const { req, reply, res } = fakeExchange(url);
      const next = jest.fn();
      hookFor('info')!(req, reply, next);
      expect(next).toHaveBeenCalled();
      expect(res.listenerCount('close')).toBe(0);
    }
  });
});
