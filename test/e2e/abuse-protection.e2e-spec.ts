import { randomToken } from '../../src/common/crypto';
import { RefusalAuditor } from '../../src/events/refusal-auditor';
import { SharedCounterStorage } from '../../src/rate-limit/shared-counter.storage';
import { sql } from '../../src/database/sql';
import { insertUserRow, issueCode } from '../factories/tokens';
import { closeAddressAgents, requestFrom } from '../helpers/from-address';
import { createTestApp, TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

const LIMIT = 8;
const ATTACKER = '127.0.0.2';
const VICTIM = '127.0.0.3';

/**
 * docs/abuse-protection.md: nobody can use up another client's allowance, a refused IP creates no limiter
 * state, and a flood of refusals writes one audit row per key and window (issue 13, findings 1 and 3).
 * Distinct client IPs are distinct loopback source addresses.
 */
describe('abuse protection: the limits cannot be turned against legitimate clients', () => {
  let t: TestApp;
  let publicClient: TestClient;
  let confidential: TestClient;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_TOKEN: String(LIMIT), RATE_LIMIT_API: String(LIMIT) });
    publicClient = await createClient(t, { authMethod: 'none' });
    confidential = await createClient(t, {
      authMethod: 'client_secret_post',
      grantTypes: ['client_credentials'],
      scope: 'api:read',
    });
  });
  afterAll(async () => {
    closeAddressAgents();
    await t.close();
  });

  const rateLimitedRows = (clientId?: string) =>
    sql<{ ip: string; client_id: string | null; details: Record<string, unknown> }>(
      t.dataSource,
      `SELECT host(ip) AS ip, client_id, details FROM audit_events WHERE type = 'request.rate_limited'
        ${clientId ? 'AND client_id = $1' : ''} ORDER BY id`,
      clientId ? [clientId] : [],
    );

  const exchangeFrom = async (ip: string, client: TestClient) => {
    const code = await issueCode(t, { client, userId: await insertUserRow(t) });
    return requestFrom(ip, t.url, {
      path: '/oauth/token',
      form: {
        grant_type: 'authorization_code',
        code: code.code,
        redirect_uri: client.redirectUri,
        code_verifier: code.verifier,
        client_id: client.clientId,
      },
    });
  };

  it("does not charge a public client's allowance for requests naming it without a valid code", async () => {
    // the attacker names the victim's client_id with made-up codes: more than the whole per-client allowance
    const attack = [];
    for (let i = 0; i < LIMIT * 2; i++)
      attack.push(
        await requestFrom(ATTACKER, t.url, {
          path: '/oauth/token',
          form: {
            grant_type: 'authorization_code',
            code: randomToken(),
            redirect_uri: publicClient.redirectUri,
            code_verifier: randomToken(48),
            client_id: publicClient.clientId,
          },
        }),
      );
    expect(attack.slice(0, LIMIT).every((r) => r.status === 400)).toBe(true); // invalid_grant
    expect(attack.slice(LIMIT).every((r) => r.status === 429)).toBe(true); // the attacker's IP, not the client
    // every legitimate user of the client, from another IP, is still served
    for (let i = 0; i < LIMIT; i++) expect((await exchangeFrom(VICTIM, publicClient)).status).toBe(200);
  });

  it('counts valid exchanges of a public client against it, from every IP together', async () => {
    // LIMIT successful exchanges above used the allowance up: the next one is refused, from any IP
    const refused = await exchangeFrom('127.0.0.4', publicClient);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ error: 'slow_down' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const rows = await rateLimitedRows(publicClient.clientId);
    expect(rows.filter((r) => r.details.limit === 'client')).toHaveLength(1);
  });

  it("does not charge a confidential client's allowance for failed authentications", async () => {
    for (let i = 0; i < LIMIT; i++)
      await requestFrom('127.0.0.5', t.url, {
        path: '/oauth/token',
        form: {
          grant_type: 'client_credentials',
          client_id: confidential.clientId,
          client_secret: 'wrong',
        },
      });
    for (let i = 0; i < LIMIT; i++) {
      const ok = await requestFrom('127.0.0.6', t.url, {
        path: '/oauth/token',
        form: {
          grant_type: 'client_credentials',
          client_id: confidential.clientId,
          client_secret: confidential.clientSecret!,
        },
      });
      expect(ok.status).toBe(200);
    }
    const over = await requestFrom('127.0.0.7', t.url, {
      path: '/oauth/token',
      form: {
        grant_type: 'client_credentials',
        client_id: confidential.clientId,
        client_secret: confidential.clientSecret!,
      },
    });
    expect(over.status).toBe(429); // its own authenticated requests do count, from any IP
  });

  it('creates no limiter state for the client_ids sent by an IP over its limit', async () => {
    const counters = t.get(SharedCounterStorage);
    const ip = '127.0.0.8';
    for (let i = 0; i < LIMIT; i++)
      await requestFrom(ip, t.url, { path: '/oauth/token', form: { grant_type: 'client_credentials' } });
    const before = counters.size;
    for (let i = 0; i < 100; i++)
      expect(
        (
          await requestFrom(ip, t.url, {
            path: '/oauth/token',
            form: { grant_type: 'client_credentials', client_id: `random-${i}`, client_secret: 'x' },
          })
        ).status,
      ).toBe(429);
    expect(counters.size).toBe(before);
  });

  it('audits a flood of refusals once per key and window, with the count', async () => {
    const ip = '127.0.0.9';
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 40; i++)
      statuses.push(
        (await requestFrom(ip, t.url, { path: '/oauth/token', form: { grant_type: 'client_credentials' } }))
          .status,
      );
    expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    const rows = (await rateLimitedRows()).filter((r) => r.ip === ip);
    expect(rows).toHaveLength(1);
    expect(rows[0].details).toMatchObject({ route: '/oauth/token', limit: 'ip', count: 1 });
    await t.get(RefusalAuditor).sweep(Number.POSITIVE_INFINITY); // the window's end
    const [closed] = (await rateLimitedRows()).filter((r) => r.ip === ip);
    expect(closed.details.count).toBe(40);
  });

  describe('admin and audit APIs (issue 20.2)', () => {
    const adminFrom = (ip: string, path: string, headers: Record<string, string> = {}) =>
      requestFrom(ip, t.url, { path, headers });

    it('limits the admin and audit APIs per IP, with Retry-After', async () => {
      const ip = '127.0.0.10';
      const statuses: number[] = [];
      for (let i = 0; i < LIMIT + 3; i++)
        statuses.push((await adminFrom(ip, i % 2 ? '/audit/events' : '/admin/clients')).status);
      expect(statuses.slice(0, LIMIT).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(LIMIT)).toEqual([429, 429, 429]);
      const other = await adminFrom('127.0.0.11', '/admin/clients');
      expect(other.status).toBe(401);
      const limited = await adminFrom(ip, '/admin/clients');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.body).toMatchObject({ error: 'slow_down' });
    });

    it('stores the route pattern and a bounded user agent, once per key and window with the count', async () => {
      const ip = '127.0.0.12';
      for (let i = 0; i < 5; i++)
        await adminFrom(ip, `/admin/clients/${'x'.repeat(900)}${i}`, { 'user-agent': 'U'.repeat(5000) });
      const rows = await sql<{ details: Record<string, unknown>; user_agent: string }>(
        t.dataSource,
        `SELECT details, user_agent FROM audit_events WHERE type = 'api.access_denied' AND host(ip) = $1`,
        [ip],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].details).toMatchObject({ reason: 'missing_token', path: '/admin/clients/:client_id' });
      expect(rows[0].user_agent.length).toBeLessThanOrEqual(256);
      await t.get(RefusalAuditor).sweep(Number.POSITIVE_INFINITY);
      const [closed] = await sql<{ details: Record<string, unknown> }>(
        t.dataSource,
        `SELECT details FROM audit_events WHERE type = 'api.access_denied' AND host(ip) = $1`,
        [ip],
      );
      expect(closed.details.count).toBe(5);
    });

    it('answers a request without a token with a Bearer challenge without an error code (RFC 6750 §3.1)', async () => {
      const res = await adminFrom('127.0.0.13', '/admin/clients');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="latchkey"');
      const bad = await adminFrom('127.0.0.13', '/admin/clients', { authorization: 'Bearer nope' });
      expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    });
  });
});
