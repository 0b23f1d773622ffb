import { request as httpRequest } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import request from 'supertest';
import { adminCaller, ADMIN_SCOPES, createClient, type TestClient } from '../factories/clients';
import { basicAuth } from '../factories/tokens';
import { REQUEST_TIMEOUT_MS } from '../../src/bootstrap';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * What the HTTP platform (Fastify, src/bootstrap.ts and src/http/body-parsers.ts) guarantees beyond the
 * endpoints: every refusal before a handler — an undecodable URL, an unreadable body — has the error shape of
 * every other error, names the request id and carries the security headers.
 */
describe('HTTP platform', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await createTestApp({ BODY_LIMIT: '16kb' });
    admin = (await adminCaller(t, ADMIN_SCOPES)).token;
  });
  afterAll(() => t.close());

  /** A raw request (fetch would normalise the URL). */
  function raw(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string | Buffer,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${t.url}${path}`, { method, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const form = 'application/x-www-form-urlencoded';

  it('bounds how long a request may take to arrive (Fastify alone would wait forever)', () => {
    const server = t.app.getHttpServer() as { requestTimeout: number; headersTimeout: number };
    expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
    expect(REQUEST_TIMEOUT_MS).toBeGreaterThan(0);
    expect(server.headersTimeout).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS);
  });

  it('answers a URL it cannot decode with 400 JSON naming the request id', async () => {
    const r = await raw('GET', '/oauth/%E0%A4%A', { 'x-request-id': 'bad-url-1' });
    expect(r.status).toBe(400);
    expect(r.headers['x-request-id']).toBe('bad-url-1');
    expect(JSON.parse(r.text)).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'malformed URL',
      request_id: 'bad-url-1',
    });
  });

  it('routes an over-long path parameter to its handler: 401 without a token, 404 with one', async () => {
    const path = `/admin/clients/lk_${'x'.repeat(300)}`;
    expect((await raw('GET', path)).status).toBe(401);
    const r = await raw('GET', path, { authorization: `Bearer ${admin}` });
    expect(r.status).toBe(404);
    expect(JSON.parse(r.text).request_id).toBe(r.headers['x-request-id']);
  });

  it('refuses a form with more than 100 parameters with 413 invalid_request', async () => {
    const body = Array.from({ length: 101 }, (_, i) => `p${i}=x`).join('&');
    const r = await raw('POST', '/oauth/token', { 'content-type': form }, body);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toMatchObject({
      error: 'invalid_request',
      error_description: 'too many parameters',
    });
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('accepts a form in ISO-8859-1 (as Java clients send it) and refuses other charsets with 415', async () => {
    const latin1 = await raw(
      'POST',
      '/oauth/token',
      { 'content-type': `${form}; charset=ISO-8859-1` },
      'grant_type=nonsense',
    );
    expect(latin1.status).toBe(400);
    expect(JSON.parse(latin1.text).error).toBe('unsupported_grant_type');
    const other = await raw(
      'POST',
      '/oauth/token',
      { 'content-type': `${form}; charset=shift_jis` },
      'grant_type=x',
    );
    expect(other.status).toBe(415);
    expect(JSON.parse(other.text)).toMatchObject({ error: 'invalid_request', error_description: /charset/ });
  });

  it('decompresses gzip, deflate and br bodies, applies the limit to what they decompress to, refuses others', async () => {
    const body = Buffer.from('grant_type=nonsense');
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      const r = await raw(
        'POST',
        '/oauth/token',
        { 'content-type': form, 'content-encoding': encoding },
        compress(body),
      );
      expect([encoding, r.status, JSON.parse(r.text).error]).toEqual([
        encoding,
        400,
        'unsupported_grant_type',
      ]);
    }
    const bomb = gzipSync(Buffer.from('token=' + 'a'.repeat(64 * 1024)));
    expect(bomb.length).toBeLessThan(16 * 1024);
    const big = await raw('POST', '/oauth/token', { 'content-type': form, 'content-encoding': 'gzip' }, bomb);
    expect(big.status).toBe(413);
    const broken = await raw(
      'POST',
      '/oauth/token',
      { 'content-type': form, 'content-encoding': 'gzip' },
      Buffer.from('not gzip at all'),
    );
    expect(broken.status).toBe(400);
    expect(JSON.parse(broken.text)).toMatchObject({ error: 'invalid_request' });
    const other = await raw(
      'POST',
      '/oauth/token',
      { 'content-type': form, 'content-encoding': 'zstd' },
      'a=b',
    );
    expect(other.status).toBe(415);
  });

  /** A zlib stream of `blocks` empty stored blocks: it decompresses to nothing, whatever its length. */
  const emptyDeflate = (blocks: number) =>
    Buffer.concat([
      Buffer.from([0x78, 0x01]),
      Buffer.alloc(blocks * 5, Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff])),
    ]);

  /** Streams `body` in chunks without Content-Length; resolves with the answer (write errors after it are fine). */
  function streamed(
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<{ status: number; ms: number }> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${t.url}${path}`, { method: 'POST', headers }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, ms: Date.now() - started });
      });
      req.on('error', (err) => setTimeout(() => reject(err), 2000));
      let offset = 0;
      const next = () => {
        while (offset < body.length && !req.destroyed) {
          const chunk = body.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', next);
        }
        if (!req.destroyed) req.end();
      };
      next();
    });
  }

  it('counts the compressed bytes against BODY_LIMIT too: empty deflate blocks are refused with 413 at the limit', async () => {
    const headers = { 'content-type': form, 'content-encoding': 'deflate' };
    const bomb = emptyDeflate(800_000); // 4 MB that decompress to nothing
    const announced = await raw(
      'POST',
      '/oauth/token',
      { ...headers, 'content-length': String(bomb.length) },
      bomb,
    );
    expect(announced.status).toBe(413);
    const chunked = await streamed('/oauth/token', headers, bomb);
    expect(chunked.status).toBe(413);
    // a small compressed body is still read
    const fine = await raw('POST', '/oauth/token', headers, deflateSync(Buffer.from('grant_type=nope')));
    expect(fine.status).toBe(400);
  });

  it('refuses JSON nested deeper than 32 levels with 400 before parsing it (it overflowed the stack: 500)', async () => {
    const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    for (const depth of [33, 2000, 5000]) {
      const body = `{"client_name":"x","redirect_uris":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
      const r = await raw('POST', '/admin/clients', auth, body);
      expect([depth, r.status]).toEqual([depth, 400]);
      expect(JSON.parse(r.text).message).toBe('the JSON body is nested deeper than 32 levels');
    }
    // brackets inside strings are not nesting
    const quoted = await raw(
      'POST',
      '/admin/clients',
      auth,
      JSON.stringify({ client_name: '['.repeat(100) }),
    );
    expect(quoted.status).toBe(400);
    expect(JSON.parse(quoted.text).fields).toHaveProperty('redirect_uris');
  });

  it('refuses a body over BODY_LIMIT that announces its length before reading it', async () => {
    const r = await raw(
      'POST',
      '/oauth/token',
      { 'content-type': form, 'content-length': '17000' },
      'a'.repeat(17000),
    );
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text)).toMatchObject({
      error: 'invalid_request',
      error_description: 'request body too large',
    });
  });

  it('answers malformed JSON and a JSON scalar with 400, an empty JSON body as no body', async () => {
    const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    for (const body of ['{"client_name":', '"just a string"', '42']) {
      const r = await raw('POST', '/admin/clients', auth, body);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text)).toMatchObject({ statusCode: 400, request_id: expect.any(String) });
    }
    const empty = await raw('POST', '/admin/clients', { ...auth, 'content-length': '0' }, '');
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text).fields).toHaveProperty('client_name');
  });

  it('refuses JSON with a __proto__ key', async () => {
    const r = await raw(
      'POST',
      '/admin/clients',
      { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      '{"client_name":"x","__proto__":{"admin":true}}',
    );
    expect(r.status).toBe(400);
  });

  it('serves the protocol endpoints with a trailing slash too', async () => {
    const r = await raw('POST', '/oauth/token/', { 'content-type': form }, 'grant_type=nonsense');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toBe('unsupported_grant_type');
    expect(r.headers.pragma).toBe('no-cache');
  });

  it('sends the security headers and the request id on errors and on the streamed CSV export', async () => {
    const missing = await raw('GET', '/no/such/route');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(JSON.parse(missing.text).request_id).toBe(missing.headers['x-request-id']);

    const csv = await raw('GET', '/audit/events?format=csv', {
      authorization: `Bearer ${admin}`,
      'x-request-id': 'csv-export-1',
    });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['x-request-id']).toBe('csv-export-1');
    expect(csv.headers['cache-control']).toBe('no-store');
    expect(csv.headers['content-security-policy']).toContain("default-src 'self'");
    expect(csv.text.split('\r\n')[0]).toMatch(/^id,occurred_at,type,/);
  });
});

/**
 * The router decodes percent-escapes in the path (`/oauth/%74oken` is served by `/oauth/token`): every decision by
 * path — rate limits, the protocol endpoints' headers, the error format — is taken on the route, not the raw URL.
 */
describe('HTTP platform: percent-encoded paths', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_TOKEN: '3', RATE_LIMIT_AUTHORIZE: '3', RATE_LIMIT_WINDOW: '60s' });
    client = await createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });
  });
  afterAll(() => t.close());

  it('counts /oauth/%74oken against the token limit and answers it with no-store', async () => {
    const send = () =>
      request(t.url)
        .post('/oauth/%74oken')
        .set('Authorization', basicAuth(client.clientId, client.clientSecret!))
        .type('form')
        .send({ grant_type: 'client_credentials' });
    for (let i = 0; i < 3; i++) {
      const ok = await send();
      expect(ok.status).toBe(200);
      expect(ok.headers['cache-control']).toBe('no-store');
      expect(ok.headers.pragma).toBe('no-cache');
    }
    const limited = await send();
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'slow_down' });
  });

  it('counts /log%69n against the login page limit and answers errors there as a page', async () => {
    for (let i = 0; i < 3; i++) expect((await request(t.url).get('/log%69n')).status).toBe(200);
    const limited = await request(t.url).get('/log%69n');
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^text\/html/);
  });
});
