import { randomUUID } from 'node:crypto';
import { sql } from '../../src/database/sql';
import { closeAddressAgents, requestFrom } from '../helpers/from-address';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * docs/configuration.md, TRUST_PROXY: the client IP is the right-most address of the chain (X-Forwarded-For entries, then
 * the socket peer) that is not a trusted proxy — never the left-most entry, which the client writes (issue 13,
 * finding 2). The IP each request was given is read back from its audit row; real X-Forwarded-For chains over
 * real sockets, from 127.0.0.1 and 127.0.0.2.
 */
describe('TRUST_PROXY: client IPs through proxies', () => {
  afterAll(() => closeAddressAgents());

  /** Sends a token request that fails (one audit row, never aggregated) and returns the IP it was audited with. */
  async function auditedIp(t: TestApp, forwardedFor: string | null, from = '127.0.0.1'): Promise<string> {
    const requestId = randomUUID();
    const headers: Record<string, string> = { 'x-request-id': requestId };
    if (forwardedFor !== null) headers['x-forwarded-for'] = forwardedFor;
    const res = await requestFrom(from, t.url, {
      path: '/oauth/token',
      headers,
      form: { grant_type: 'urn:example:nothing' },
    });
    expect(res.status).toBe(400);
    const [row] = await sql<{ ip: string }>(
      t.dataSource,
      `SELECT host(ip) AS ip FROM audit_events WHERE request_id = $1`,
      [requestId],
    );
    return row.ip;
  }

  describe('off (the default)', () => {
    let t: TestApp;
    beforeAll(async () => (t = await createTestApp({ RATE_LIMIT_TOKEN: '1000' })));
    afterAll(() => t.close());

    it('ignores X-Forwarded-For: the socket peer is the client', async () => {
      expect(await auditedIp(t, '198.51.100.1')).toBe('127.0.0.1');
      expect(await auditedIp(t, null, '127.0.0.2')).toBe('127.0.0.2');
    });
  });

  describe('a hop count of 1 (one proxy in front)', () => {
    let t: TestApp;
    beforeAll(
      async () =>
        (t = await createTestApp({ TRUST_PROXY: '1', RATE_LIMIT_TOKEN: '3', RATE_LIMIT_AUTHORIZE: '5' })),
    );
    afterAll(() => t.close());

    it('takes the entry the proxy appended, not the ones the client wrote', async () => {
      expect(await auditedIp(t, '203.0.113.9')).toBe('203.0.113.9');
      expect(await auditedIp(t, '1.2.3.4, 203.0.113.10')).toBe('203.0.113.10');
      expect(await auditedIp(t, null, '127.0.0.2')).toBe('127.0.0.2');
    });

    it('cannot be bypassed by rotating the left-most entry', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push(
          (
            await requestFrom('127.0.0.1', t.url, {
              path: '/oauth/token',
              headers: { 'x-forwarded-for': `10.9.8.${i}, 198.51.100.7` },
              form: { grant_type: 'client_credentials' },
            })
          ).status,
        );
      expect(statuses[3]).toBe(429);
    });

    it('counts IPv6 clients per /64', async () => {
      const login = (ip: string) =>
        requestFrom('127.0.0.1', t.url, { path: '/login', headers: { 'x-forwarded-for': ip } });
      // RATE_LIMIT_AUTHORIZE is 5: five addresses of one /64 use up that /64's budget
      const sameNet = Array.from({ length: 5 }, (_, i) => `2001:db8:1:2::${(i + 1).toString(16)}`);
      for (const ip of sameNet) expect((await login(ip)).status).toBe(200);
      expect((await login('2001:db8:1:2:ffff::1')).status).toBe(429);
      expect((await login('2001:db8:1:3::1')).status).toBe(200);
    });
  });

  describe('a hop count of 2 (a CDN, then a load balancer)', () => {
    let t: TestApp;
    beforeAll(async () => (t = await createTestApp({ TRUST_PROXY: '2', RATE_LIMIT_TOKEN: '1000' })));
    afterAll(() => t.close());

    it('skips the socket peer and the right-most entry', async () => {
      expect(await auditedIp(t, '198.51.100.20, 10.0.0.1')).toBe('198.51.100.20');
      expect(await auditedIp(t, '6.6.6.6, 198.51.100.21, 10.0.0.1')).toBe('198.51.100.21');
    });
  });

  describe('a list of proxy addresses and CIDRs', () => {
    let t: TestApp;
    beforeAll(
      async () =>
        (t = await createTestApp({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8', RATE_LIMIT_TOKEN: '1000' })),
    );
    afterAll(() => t.close());

    it('walks the chain from the right past the trusted proxies only', async () => {
      expect(await auditedIp(t, '6.6.6.6, 198.51.100.30, 10.1.2.3')).toBe('198.51.100.30');
      expect(await auditedIp(t, '198.51.100.31, 10.1.2.3, 10.4.5.6')).toBe('198.51.100.31');
    });

    it('believes no X-Forwarded-For from a peer that is not a listed proxy', async () => {
      expect(await auditedIp(t, '198.51.100.32', '127.0.0.2')).toBe('127.0.0.2');
    });
  });
});
