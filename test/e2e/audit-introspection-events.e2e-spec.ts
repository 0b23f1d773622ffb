import { type StoredAuditRow as StoredEvent } from '../factories/audit-events';
import { sql } from '../../src/database/sql';
import { createClient, type TestClient } from '../factories/clients';
import {
  introspect,
  introspectionClient,
  jwtClaims,
  obtainTokens,
  revoke,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * An introspection of an access token writes its `token.introspected` in the statement that reads the token's
 * state (tokens/introspection.repository.ts); any other introspection records it as any request does. Through the
 * real endpoint, on the real database: one row per request, with the request's facts and the answer given.
 */
describe('token.introspected rows, through HTTP', () => {
  let t: TestApp;
  let client: TestClient;
  let resourceServer: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    client = await createClient(t);
    resourceServer = await introspectionClient(t);
  });
  afterAll(() => t.close());

  /** The token.introspected rows of the requests made by `work`. */
  const rowsDuring = async (work: () => Promise<unknown>) => {
    const [{ now }] = await sql<{ now: Date }>(t.dataSource, `SELECT clock_timestamp() AS now`);
    await work();
    return sql<StoredEvent>(
      t.dataSource,
      `SELECT host(ip) AS ip, request_id, duration_ms, details, request_first, request_first_failure
         FROM audit_events
        WHERE type = 'token.introspected' AND client_id = $1 AND occurred_at >= $2
        ORDER BY occurred_at, id`,
      [resourceServer.clientId, now],
    );
  };

  it('an active access token: one row, its answer and the request’s facts', async () => {
    const tokens = await obtainTokens(t, client);
    const rows = await rowsDuring(() => introspect(t, resourceServer, tokens.access_token).expect(200));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      details: { active: true, token_type: 'access_token' },
      request_first: true,
      request_first_failure: false,
    });
    expect(rows[0].ip).toMatch(/127\.0\.0\.1|::1/);
    expect(rows[0].request_id).toEqual(expect.any(String));
    expect(rows[0].duration_ms).toEqual(expect.any(Number));
  });

  it('a revoked access token: one row that says inactive', async () => {
    const tokens = await obtainTokens(t, client);
    await revoke(t, client, tokens.access_token, 'access_token').expect(200);
    const rows = await rowsDuring(async () => {
      const res = await introspect(t, resourceServer, tokens.access_token).expect(200);
      expect(res.body).toEqual({ active: false });
    });
    expect(rows.map((r) => [r.details, r.request_first])).toEqual([[{ active: false }, true]]);
  });

  it('concurrent introspections: one row each, each with its own answer', async () => {
    const live = await Promise.all([1, 2, 3, 4, 5].map(() => obtainTokens(t, client)));
    const revoked = await obtainTokens(t, client);
    await revoke(t, client, revoked.access_token, 'access_token').expect(200);
    const tokens = [...live.map((l) => l.access_token), revoked.access_token];
    const rows = await rowsDuring(() =>
      Promise.all(tokens.map((token) => introspect(t, resourceServer, token).expect(200))),
    );
    expect(rows).toHaveLength(tokens.length);
    expect(rows.filter((r) => r.details.active === true)).toHaveLength(live.length);
    expect(rows.filter((r) => r.details.active === false)).toEqual([
      expect.objectContaining({ details: { active: false } }),
    ]);
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(tokens.length);
  });

  it('a token that never reaches the state statement (bad signature, refresh token, garbage): one row each', async () => {
    const tokens = await obtainTokens(t, client);
    const [h, p, s] = tokens.access_token.split('.');
    const forged = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(jwtClaims(forged).jti).toBe(jwtClaims(tokens.access_token).jti);
    const rows = await rowsDuring(async () => {
      await introspect(t, resourceServer, forged).expect(200);
      await introspect(t, resourceServer, tokens.refresh_token!, 'refresh_token').expect(200);
      await introspect(t, resourceServer, 'not-a-token').expect(200);
    });
    expect(rows.map((r) => [r.details, r.request_first])).toEqual([
      [{ active: false }, true],
      [{ active: true, token_type: 'refresh_token' }, true],
      [{ active: false }, true],
    ]);
  });
});
