import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { apiToken } from '../factories/audit';
import {
  basicAuth,
  exchangeCode,
  insertUserRow,
  issueCode,
  postForm,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createClient } from '../factories/clients';
import { closeAddressAgents, requestFrom } from '../helpers/from-address';
import { createTestApp, freePort, TestApp } from '../helpers/test-app';

/** The value of one sample (`name{labels} value`) in a Prometheus text exposition, or 0 when absent. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[4]);
  }
  return 0;
}

describe('GET /metrics (METRICS=bearer, the default)', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    token = (await apiToken(t, { scope: 'metrics:read' })).token;
  });
  afterAll(() => t.close());

  const scrape = async () => {
    const res = await request(t.url).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    return res.text;
  };

  it('answers in the Prometheus text format', async () => {
    const res = await request(t.url).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('# TYPE latchkey_http_requests_total counter');
    expect(res.text).toContain('# TYPE latchkey_http_request_duration_seconds histogram');
    expect(res.text).toContain('# TYPE latchkey_audit_writer_queue_depth gauge');
    // PGlite: one session; PostgreSQL: DATABASE_POOL_SIZE (4 in tests)
    const max = /^postgres/.test(process.env.DATABASE_URL ?? '') ? 4 : 1;
    expect(sample(res.text, 'latchkey_db_pool_connections', { state: 'max' })).toBe(max);
    expect(sample(res.text, 'latchkey_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
    expect(res.text).toContain('process_cpu_seconds_total');
  });

  it('refuses without a token (401) and without metrics:read (403)', async () => {
    const none = await request(t.url).get('/metrics').expect(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const other = (await apiToken(t, { scope: 'audit:read' })).token;
    const res = await request(t.url).get('/metrics').set('Authorization', `Bearer ${other}`).expect(403);
    expect(res.body.error).toBe('insufficient_scope');
    const text = await scrape();
    expect(
      sample(text, 'latchkey_api_access_denied_total', { reason: 'missing_token' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'latchkey_api_access_denied_total', { reason: 'insufficient_scope' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts token issuance by grant type, PKCE and client-authentication failures by reason', async () => {
    const before = await scrape();
    const client = await createClient(t);
    const userId = await insertUserRow(t);
    const code = await issueCode(t, { client, userId });
    await exchangeCode(t, client, code).expect(200);
    const other = await issueCode(t, { client, userId });
    await exchangeCode(t, client, { code: other.code, verifier: 'x'.repeat(43) }).expect(400);
    await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, undefined, {
      headers: { Authorization: basicAuth(client.clientId, 'wrong-secret') },
    }).expect(401);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    expect(delta('latchkey_tokens_issued_total', { grant_type: 'authorization_code' })).toBe(1);
    expect(delta('latchkey_pkce_failures_total', { stage: 'token', reason: 'pkce_verifier_mismatch' })).toBe(
      1,
    );
    expect(
      delta('latchkey_token_request_failures_total', {
        grant_type: 'authorization_code',
        reason: 'pkce_verifier_mismatch',
      }),
    ).toBe(1);
    expect(delta('latchkey_client_auth_failures_total', { reason: 'bad_secret', endpoint: 'token' })).toBe(1);
    // per route pattern and status class, never the raw path
    expect(
      delta('latchkey_http_requests_total', { method: 'POST', route: '/oauth/token', status_class: '2xx' }),
    ).toBe(1);
    expect(
      delta('latchkey_http_requests_total', { method: 'POST', route: '/oauth/token', status_class: '4xx' }),
    ).toBe(2);
    expect(
      delta('latchkey_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/oauth/token',
        status_class: '2xx',
      }),
    ).toBe(1);
    expect(sample(after, 'latchkey_audit_flush_duration_seconds_count', { result: 'ok' })).toBeGreaterThan(0);
  });

  it('labels a path no route has as (unmatched), never by its text', async () => {
    await request(t.url).get('/no/such/path-12345').expect(404);
    const text = await scrape();
    expect(text).not.toContain('path-12345');
    expect(
      sample(text, 'latchkey_http_requests_total', { route: '(unmatched)', status_class: '4xx' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('counts every rate-limit refusal, not only the one audited per window; /metrics is under RATE_LIMIT_API', async () => {
    const limited = await createTestApp({ RATE_LIMIT_API: '2', RATE_LIMIT_WINDOW: '3600s' });
    try {
      const own = (await apiToken(limited, { scope: 'metrics:read' })).token;
      for (let i = 0; i < 5; i++) await requestFrom('127.0.0.9', limited.url, { path: '/admin/clients' });
      const scraped = (path: string) =>
        requestFrom('127.0.0.10', limited.url, { path, headers: { Authorization: `Bearer ${own}` } });
      const first = await scraped('/metrics');
      expect(first.status).toBe(200);
      expect(
        sample(first.text, 'latchkey_rate_limited_total', { limit: 'ip', route: '/admin/clients' }),
      ).toBe(3);
      expect((await scraped('/metrics')).status).toBe(200);
      const third = await scraped('/metrics');
      expect(third.status).toBe(429);
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      closeAddressAgents();
      await limited.close();
    }
  });
});

describe('METRICS=off and METRICS=port:<n>', () => {
  it('off: GET /metrics is 404 even with a token', async () => {
    const t = await createTestApp({ METRICS: 'off' });
    try {
      const { token } = await apiToken(t, { scope: 'metrics:read' });
      await request(t.url).get('/metrics').set('Authorization', `Bearer ${token}`).expect(404);
      await request(t.url).get('/metrics').expect(404);
    } finally {
      await t.close();
    }
  });

  it('port:<n>: an open listener on METRICS_HOST, nothing on the main port', async () => {
    const port = await freePort();
    const t = await createTestApp({ METRICS: `port:${port}`, METRICS_HOST: '127.0.0.1' });
    try {
      await request(t.url).get('/metrics').expect(404);
      await request(t.url).get('/health/live').expect(200);
      const res = await request(`http://127.0.0.1:${port}`).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(
        sample(res.text, 'latchkey_http_requests_total', {
          method: 'GET',
          route: '/health/live',
          status_class: '2xx',
        }),
      ).toBe(1);
      await request(`http://127.0.0.1:${port}`).get('/other').expect(404);
    } finally {
      await t.close();
    }
    // the listener is closed with the app
    await expect(
      new Promise((resolve, reject) =>
        httpRequest(`http://127.0.0.1:${port}/metrics`, resolve).on('error', reject).end(),
      ),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
