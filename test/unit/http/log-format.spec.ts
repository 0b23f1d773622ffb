import { formatLogLine, quietFrameworkLogs } from '../../../src/http/log-format';

describe('LOG_FORMAT=text lines', () => {
  const time = Date.UTC(2026, 11, 2, 17, 30, 1, 123);

  it('writes a request line as method, path, status and time, with the request id', () => {
    const line = JSON.stringify({
      level: 30,
      time,
      pid: 1,
      hostname: 'h',
      reqId: 'r-1',
      context: 'HTTP',
      method: 'POST',
      url: '/oauth/token',
      statusCode: 400,
      responseTime: 4,
      msg: 'request completed',
    });
    expect(formatLogLine(line)).toBe('17:30:01.123 info  [HTTP] POST /oauth/token 400 4ms req=r-1\n');
  });

  it('keeps other fields (already redacted by pino) and the stack of an error', () => {
    const line = JSON.stringify({
      level: 50,
      time,
      context: 'X',
      msg: 'boom',
      password: '[redacted]',
      err: { stack: 'Error: boom\n    at x' },
    });
    expect(formatLogLine(line)).toBe(
      '17:30:01.123 error [X] boom {"password":"[redacted]"}\nError: boom\n    at x\n',
    );
  });

  it('passes a line that is not JSON through', () => {
    expect(formatLogLine('plain')).toBe('plain\n');
  });
});

describe('quietFrameworkLogs', () => {
  it("turns Nest's module and route lines into debug, nothing else", () => {
    const calls: string[] = [];
    const logger = {
      log: (m: unknown) => calls.push(`log ${String(m)}`),
      debug: (m: unknown) => calls.push(`debug ${String(m)}`),
      warn: (m: unknown) => calls.push(`warn ${String(m)}`),
      error: (m: unknown) => calls.push(`error ${String(m)}`),
    };
    const quiet = quietFrameworkLogs(logger);
    quiet.log('Mapped {/oauth/token, POST} route', 'RouterExplorer');
    quiet.log('AppModule dependencies initialized', 'InstanceLoader');
    quiet.log('signing key created', 'KeyStore');
    quiet.warn('careful', 'Bootstrap');
    expect(calls).toEqual([
      'debug Mapped {/oauth/token, POST} route',
      'debug AppModule dependencies initialized',
      'log signing key created',
      'warn careful',
    ]);
  });
});
