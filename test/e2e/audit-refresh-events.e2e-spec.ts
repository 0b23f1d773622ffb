import { type StoredAuditRow as StoredEvent } from '../factories/audit-events';
import { sql } from '../../src/database/sql';
import { createClient, type TestClient } from '../factories/clients';
import { obtainTokens, refresh, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * A refresh rotation writes its request's `token.issued` itself, in the rotation statement (docs/audit.md,
 * durability); a reissue within the grace period and a refusal record theirs as any other request does. Through
 * the real endpoint: each row with its request's facts and the flags the report counts with.
 */
describe('audit events of the refresh grant, through HTTP', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, REFRESH_REUSE_GRACE: '30s' });
    client = await createClient(t, {
      scope: 'api:read api:write',
      grantTypes: ['authorization_code', 'refresh_token'],
    });
  });
  afterAll(() => t.close());

  const eventsOfGrant = (grantId: string) =>
    sql<StoredEvent>(
      t.dataSource,
      `SELECT type, subject, host(ip) AS ip, request_id, duration_ms, details, request_first, request_first_failure
         FROM audit_events
        WHERE client_id = $1 AND details->>'grant_id' = $2 AND details->>'grant_type' = 'refresh_token'
        ORDER BY occurred_at, id`,
      [client.clientId, grantId],
    );
  const grantIdOf = async (refreshToken: string) =>
    (
      await sql<{ grant_id: string }>(
        t.dataSource,
        `SELECT grant_id FROM refresh_tokens WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')`,
        [refreshToken],
      )
    )[0].grant_id;

  it('a rotation writes token.issued with the subject, the new access token’s scope and the grant', async () => {
    const tokens = await obtainTokens(t, client);
    const grantId = await grantIdOf(tokens.refresh_token!);
    const res = await refresh(t, client, tokens.refresh_token!, { scope: 'api:read' }).expect(200);
    expect(res.body.scope).toBe('api:read');
    const rows = await eventsOfGrant(grantId);
    expect(rows).toHaveLength(1); // written once: by the statement, not again by the group commit
    const [row] = rows;
    expect(row).toMatchObject({
      type: 'token.issued',
      subject: tokens.userId,
      details: { grant_type: 'refresh_token', scope: 'api:read', grant_id: grantId },
      request_first: true,
      request_first_failure: false,
    });
    expect(row.ip).toMatch(/127\.0\.0\.1|::1/);
    expect(row.request_id).toEqual(expect.any(String));
    expect(row.duration_ms).toEqual(expect.any(Number));
  });

  it('a reuse within the grace period: its token.issued recorded once, marked grace_reuse, first of its request', async () => {
    const tokens = await obtainTokens(t, client);
    const grantId = await grantIdOf(tokens.refresh_token!);
    await refresh(t, client, tokens.refresh_token!).expect(200);
    await refresh(t, client, tokens.refresh_token!).expect(200); // the same token again: reissued
    const rows = await eventsOfGrant(grantId);
    expect(rows).toHaveLength(2);
    expect(rows[0].details.grace_reuse).toBeUndefined();
    expect(rows[1]).toMatchObject({
      type: 'token.issued',
      subject: tokens.userId,
      details: {
        grant_type: 'refresh_token',
        scope: 'api:read api:write',
        grant_id: grantId,
        grace_reuse: true,
      },
      request_first: true,
      request_first_failure: false,
    });
    expect(rows[1].request_id).not.toBe(rows[0].request_id);
  });

  it('a refused refresh writes no token.issued: its failure is the request’s first row', async () => {
    const tokens = await obtainTokens(t, client);
    const grantId = await grantIdOf(tokens.refresh_token!);
    const res = await refresh(t, client, tokens.refresh_token!, { scope: 'api:admin' }).expect(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(await eventsOfGrant(grantId)).toEqual([]);
    const [failed] = await sql<StoredEvent>(
      t.dataSource,
      `SELECT type, request_first, request_first_failure FROM audit_events
        WHERE client_id = $1 AND type = 'token.request_failed' ORDER BY occurred_at DESC, id DESC LIMIT 1`,
      [client.clientId],
    );
    expect(failed).toMatchObject({ request_first: true, request_first_failure: true });
  });
});
