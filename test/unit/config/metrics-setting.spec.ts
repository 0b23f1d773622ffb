import { ConfigError, loadEnvironment } from '../../../src/config/environment';

const base = {
  NODE_ENV: 'test',
  DATABASE_URL: 'pglite://memory',
  KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64url'),
  SESSION_SECRET: Buffer.alloc(32, 9).toString('base64url'),
};
const load = (env: Record<string, string>) => loadEnvironment({ ...base, ...env });

describe('METRICS / METRICS_HOST', () => {
  it('defaults to bearer', () => {
    expect(load({}).metrics).toEqual({ mode: 'bearer' });
  });

  it('accepts off, bearer and port:<n> (METRICS_HOST 127.0.0.1 by default)', () => {
    expect(load({ METRICS: 'off' }).metrics).toEqual({ mode: 'off' });
    expect(load({ METRICS: 'BEARER' }).metrics).toEqual({ mode: 'bearer' });
    expect(load({ METRICS: 'port:9464' }).metrics).toEqual({ mode: 'port', port: 9464, host: '127.0.0.1' });
    expect(load({ METRICS: 'port:9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({
      mode: 'port',
      port: 9464,
      host: '0.0.0.0',
    });
  });

  it.each([
    [{ METRICS: 'on' }, 'METRICS must be off, bearer or port:<n> (got "on")'],
    [{ METRICS: 'port:' }, 'METRICS must be off, bearer or port:<n>'],
    [{ METRICS: 'port:70000' }, 'METRICS port must be between 1 and 65535 (got 70000)'],
    [{ METRICS: 'port:0' }, 'METRICS port must be between 1 and 65535'],
    [{ METRICS: 'port:3000', PORT: '3000' }, 'METRICS port must differ from PORT (3000)'],
    [{ METRICS: 'port:9464', METRICS_HOST: 'bad host' }, 'METRICS_HOST is not a host name or address'],
  ])('refuses %j at start-up, naming the variable', (env, message) => {
    expect(() => load(env as Record<string, string>)).toThrow(ConfigError);
    expect(() => load(env as Record<string, string>)).toThrow(message);
  });
});
