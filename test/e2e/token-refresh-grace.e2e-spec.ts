import { sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { grantRow, jwtClaims, obtainTokens, refresh, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('POST /oauth/token grant_type=refresh_token with REFRESH_REUSE_GRACE=30s', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, REFRESH_REUSE_GRACE: '30s' });
    audit = recordAuditEvents(t);
    client = await createClient(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  it('within the grace, a rotated token yields new tokens in the same grant and the first successor stays valid', async () => {
    const first = await obtainTokens(t, client);
    const gid = jwtClaims(first.access_token).gid;
    const a = await refresh(t, client, first.refresh_token!).expect(200);
    const b = await refresh(t, client, first.refresh_token!).expect(200);
    expect(b.body.refresh_token).not.toBe(a.body.refresh_token);
    expect(jwtClaims(b.body.access_token).gid).toBe(gid);
    expect((await grantRow(t, gid)).revoked_at).toBeNull();
    await refresh(t, client, a.body.refresh_token).expect(200);
    await refresh(t, client, b.body.refresh_token).expect(200);
  });

  it('marks a reuse within the grace in its token.issued event (details.grace_reuse), and only that one', async () => {
    const first = await obtainTokens(t, client);
    audit.clear();
    await refresh(t, client, first.refresh_token!).expect(200);
    await refresh(t, client, first.refresh_token!).expect(200);
    const issued = audit.events.filter((e) => e.type === 'token.issued');
    expect(issued).toHaveLength(2);
    expect(issued[0].details?.grace_reuse).toBeUndefined();
    expect(issued[1].details).toMatchObject({ grant_type: 'refresh_token', grace_reuse: true });
    const rows = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM audit_events WHERE type = 'token.issued' AND details->>'grace_reuse' = 'true'`,
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
  });

  it('after the grace, reuse revokes the grant', async () => {
    const first = await obtainTokens(t, client);
    const gid = jwtClaims(first.access_token).gid;
    await refresh(t, client, first.refresh_token!).expect(200);
    await sql(
      t.dataSource,
      `UPDATE refresh_tokens SET rotated_at = now() - interval '31 seconds' WHERE token_hash = $1`,
      [sha256Hex(first.refresh_token!)],
    );
    audit.clear();
    await refresh(t, client, first.refresh_token!).expect(400);
    expect(audit.ofType('token.request_failed')[0].reason).toBe('refresh_reused');
    expect(await grantRow(t, gid)).toMatchObject({ revoke_cause: 'refresh_reused' });
  });

  it('within the grace, a wider scope is still invalid_scope', async () => {
    const first = await obtainTokens(t, client);
    await refresh(t, client, first.refresh_token!).expect(200);
    const res = await refresh(t, client, first.refresh_token!, { scope: 'api:read other' }).expect(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('of 20 concurrent uses of one refresh token all succeed, each with its own successor, and the grant stays valid', async () => {
    const first = await obtainTokens(t, client);
    const gid = jwtClaims(first.access_token).gid;
    audit.clear();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => refresh(t, client, first.refresh_token!)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((r) => r.body.refresh_token)).size).toBe(20);
    expect(audit.ofType('token.request_failed')).toHaveLength(0);
    expect((await grantRow(t, gid)).revoked_at).toBeNull();
    const live = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM refresh_tokens WHERE grant_id = $1 AND rotated_at IS NULL`,
      [gid],
    );
    expect(live[0].n).toBe(20);
  });
});
