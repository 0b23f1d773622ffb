import request from 'supertest';
import { sql } from '../../src/database/sql';
import { basicAuth } from '../factories/tokens';
import { createTestApp, TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/** docs/abuse-protection.md: 429 with Retry-After; RFC JSON on protocol routes, an HTML page for people. */
describe('rate limits', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_TOKEN: '5', RATE_LIMIT_AUTHORIZE: '3', RATE_LIMIT_WINDOW: '60s' });
    client = await createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });
  });
  afterAll(() => t.close());

  const token = (ip: string, c: TestClient = client) =>
    request(t.url)
      .post('/oauth/token')
      .set('X-Forwarded-For', ip) // TRUST_PROXY is off: ignored, every request comes from 127.0.0.1
      .set('Authorization', basicAuth(c.clientId, c.clientSecret!))
      .type('form')
      .send({ grant_type: 'client_credentials' });

  it('answers 429 with Retry-After and an RFC-style JSON error past the token limit, and audits it', async () => {
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await token('198.51.100.1')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await token('198.51.100.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(limited.body).toMatchObject({ error: 'slow_down' });
    const [row] = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'request.rate_limited' AND details->>'route' = '/oauth/token'`,
    );
    expect(row.n).toBeGreaterThanOrEqual(1);
  });

  it('limits revocation and introspection under the same per-IP budget', async () => {
    const revoke = await request(t.url)
      .post('/oauth/revoke')
      .set('Authorization', basicAuth(client.clientId, client.clientSecret!))
      .type('form')
      .send({ token: 'x' });
    expect(revoke.status).toBe(429);
    expect(revoke.body.error).toBe('slow_down');
  });

  it('renders an HTML page at /oauth/authorize and /login, never a redirect', async () => {
    const results = [];
    for (let i = 0; i < 4; i++)
      results.push(
        await request(t.url).get('/oauth/authorize?client_id=x&redirect_uri=https%3A%2F%2Fevil.example%2F'),
      );
    const limited = results[3];
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toContain('text/html');
    expect(limited.headers.location).toBeUndefined();
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const login = await request(t.url).get('/login');
    expect(login.status).toBe(429);
    expect(login.headers['content-type']).toContain('text/html');
  });

  it('does not limit other routes', async () => {
    for (let i = 0; i < 10; i++) expect((await request(t.url).get('/health/live')).status).toBe(200);
    expect((await request(t.url).get('/.well-known/oauth-authorization-server')).status).toBe(200);
  });
});
