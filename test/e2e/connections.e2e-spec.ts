import { connect, type Socket } from 'node:net';
import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Opens a TCP connection; resolves once connected. Records what the server sends and when it closes. */
function open(
  port: number,
): Promise<{ socket: Socket; received: () => string; closedAt: () => number | undefined }> {
  return new Promise((resolve, reject) => {
    let data = '';
    let closedAt: number | undefined;
    const socket = connect({ host: '127.0.0.1', port }, () =>
      resolve({ socket, received: () => data, closedAt: () => closedAt }),
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('close', () => (closedAt = Date.now()));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

/**
 * Slow connections (issue 20, finding 4): a connection must send its headers within HEADERS_TIMEOUT (checked
 * often, not every 30 s), and at most MAX_CONNECTIONS are open at once, so idle connections cannot use up the
 * file descriptors; once they are gone, new connections are served again.
 */
describe('connection limits', () => {
  let t: TestApp;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await createTestApp({ MAX_CONNECTIONS: '20', HEADERS_TIMEOUT: '1s' });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(() => t.close());

  it('closes a connection whose headers have not arrived within HEADERS_TIMEOUT, with 408', async () => {
    const started = Date.now();
    const slow = await open(t.port);
    sockets.push(slow.socket);
    slow.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n'); // and never the blank line
    for (let i = 0; i < 50 && slow.closedAt() === undefined; i++) await sleep(100);
    expect(slow.closedAt()).toBeDefined();
    expect(slow.closedAt()! - started).toBeLessThan(3000);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection that sends nothing at all within HEADERS_TIMEOUT (Node alone kept it forever)', async () => {
    const started = Date.now();
    const idle = await open(t.port);
    sockets.push(idle.socket);
    for (let i = 0; i < 50 && idle.closedAt() === undefined; i++) await sleep(100);
    expect(idle.closedAt()).toBeDefined();
    expect(idle.closedAt()! - started).toBeLessThan(3000);
  });

  it('does not cut a keep-alive connection that is in use', async () => {
    const conn = await open(t.port);
    sockets.push(conn.socket);
    for (let i = 0; i < 3; i++) {
      conn.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      await sleep(700);
    }
    expect(conn.closedAt()).toBeUndefined();
    expect(conn.received().match(/HTTP\/1\.1 200/g)).toHaveLength(3);
  });

  it('closes connections beyond MAX_CONNECTIONS at once, and accepts new ones when the others are gone', async () => {
    const idle = [];
    for (let i = 0; i < 20; i++) idle.push(await open(t.port));
    sockets.push(...idle.map((c) => c.socket));
    const extra = await open(t.port);
    sockets.push(extra.socket);
    await sleep(300);
    expect(extra.closedAt()).toBeDefined();
    expect(extra.received()).toBe('');
    expect(idle.every((c) => c.closedAt() === undefined)).toBe(true);

    // the idle ones time out (HEADERS_TIMEOUT), and the server is reachable again
    for (let i = 0; i < 50 && idle.some((c) => c.closedAt() === undefined); i++) await sleep(100);
    expect(idle.every((c) => c.closedAt() !== undefined)).toBe(true);
    expect((await request(t.url).get('/health/live')).status).toBe(200);
  });
});
