import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { basicAuth, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('throttling of failed client authentication per (client_id, IP)', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let client: TestClient;

  beforeAll(async () => {
    // TRUST_PROXY: the client IP comes from X-Forwarded-For, so the test can speak from several addresses
    t = await createTestApp({ ...TOKEN_TEST_ENV, CLIENT_AUTH_FAILURE_LIMIT: '3', TRUST_PROXY: '1' });
    audit = recordAuditEvents(t);
    client = await createClient(t, { grantTypes: ['client_credentials'], redirectUris: [] });
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const attempt = (secret: string, ip: string, path = '/oauth/token') =>
    request(t.url)
      .post(path)
      .type('form')
      .set('X-Forwarded-For', ip)
      .set('Authorization', basicAuth(client.clientId, secret))
      .send(path === '/oauth/token' ? { grant_type: 'client_credentials' } : { token: 'x'.repeat(43) });

  const reasons = () => audit.ofType('client.authentication_failed').map((e) => e.reason);

  it('refuses even the right secret from that IP after the limit, and never locks the client for other IPs', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await attempt('wrong', '203.0.113.7');
      expect(res.status).toBe(401);
    }
    expect(reasons()).toEqual(['bad_secret', 'bad_secret', 'bad_secret']);
    audit.clear();

    const locked = await attempt(client.clientSecret!, '203.0.113.7');
    expect(locked.status).toBe(401);
    expect(locked.body.error).toBe('invalid_client');
    expect(locked.headers['www-authenticate']).toBe('Basic realm="latchkey"');
    expect(audit.ofType('client.authentication_failed')[0]).toMatchObject({
      reason: 'locked_out',
      clientId: client.clientId,
      ip: '203.0.113.7',
    });
    // the same lock applies at the other endpoints sharing the authentication
    audit.clear();
    expect((await attempt(client.clientSecret!, '203.0.113.7', '/oauth/revoke')).status).toBe(401);
    expect((await attempt(client.clientSecret!, '203.0.113.7', '/oauth/introspect')).status).toBe(401);
    expect(reasons()).toEqual(['locked_out', 'locked_out']);

    // another IP is unaffected
    await attempt(client.clientSecret!, '198.51.100.9').expect(200);

    const rows = await sql<{ key: string; failures: number }>(
      t.dataSource,
      `SELECT key, failures FROM lockouts WHERE kind = 'client' AND key LIKE $1`,
      [`${client.clientId}|%`],
    );
    expect(rows).toEqual([{ key: `${client.clientId}|203.0.113.7`, failures: 3 }]);
  });

  it('lets the IP in again once the lock has expired', async () => {
    await sql(
      t.dataSource,
      `UPDATE lockouts SET locked_until = now() - interval '1 second', updated_at = now() - interval '2 minutes'
        WHERE kind = 'client' AND key = $1`,
      [`${client.clientId}|203.0.113.7`],
    );
    await attempt(client.clientSecret!, '203.0.113.7').expect(200);
    // and counting starts afresh
    await attempt('wrong', '203.0.113.7').expect(401);
    const rows = await sql<{ failures: number }>(
      t.dataSource,
      `SELECT failures FROM lockouts WHERE key = $1`,
      [`${client.clientId}|203.0.113.7`],
    );
    expect(rows[0].failures).toBe(1);
  });

  it('does not count unknown clients or wrong methods (nothing to guess there)', async () => {
    await request(t.url)
      .post('/oauth/token')
      .type('form')
      .set('X-Forwarded-For', '192.0.2.1')
      .send({ grant_type: 'client_credentials', client_id: 'nobody', client_secret: 'x' })
      .expect(401);
    await request(t.url)
      .post('/oauth/token')
      .type('form')
      .set('X-Forwarded-For', '192.0.2.1')
      .send({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: 'x' })
      .expect(401);
    const rows = await sql(t.dataSource, `SELECT key FROM lockouts WHERE key LIKE '%|192.0.2.1'`);
    expect(rows).toEqual([]);
  });

  it('counts the failures of IPv6 addresses per /64', async () => {
    for (let i = 1; i <= 3; i++) expect((await attempt('wrong', `2001:db8:7:1::${i}`)).status).toBe(401);
    // another address of the same /64 is throttled too; another /64 is not
    const sameNet = await attempt(client.clientSecret!, '2001:db8:7:1:ffff::9');
    expect(sameNet.status).toBe(401);
    expect(reasons()).toContain('locked_out');
    await attempt(client.clientSecret!, '2001:db8:7:2::1').expect(200);
  });
});
