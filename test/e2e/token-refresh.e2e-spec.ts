import { sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  grantRow,
  introspect,
  introspectionClient,
  jwtClaims,
  obtainTokens,
  refresh,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('POST /oauth/token grant_type=refresh_token (REFRESH_REUSE_GRACE=0s)', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let client: TestClient;
  let resourceServer: TestClient;

  beforeAll(async () => {
    // CLIENT_CACHE_TTL_MS=0: a test below edits a client in the database behind this instance's back
    t = await createTestApp({ ...TOKEN_TEST_ENV, CLIENT_CACHE_TTL_MS: '0' });
    audit = recordAuditEvents(t);
    client = await createClient(t);
    resourceServer = await introspectionClient(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  function failure() {
    const failures = audit.ofType('token.request_failed');
    expect(failures).toHaveLength(1);
    return failures[0];
  }

  it('rotates: a new access token and a new refresh token in the same grant, the old one rotated', async () => {
    const first = await obtainTokens(t, client);
    const grantId = jwtClaims(first.access_token).gid;
    audit.clear();
    const res = await refresh(t, client, first.refresh_token!).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'api:read api:write',
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(res.body.refresh_token).not.toBe(first.refresh_token);
    const claims = jwtClaims(res.body.access_token);
    expect(claims).toMatchObject({ gid: grantId, sub: first.userId, client_id: client.clientId });
    expect(claims.jti).not.toBe(jwtClaims(first.access_token).jti);
    const rows = await sql<{ token_hash: string; rotated_at: Date | null; grant_id: string }>(
      t.dataSource,
      `SELECT token_hash, rotated_at, grant_id FROM refresh_tokens WHERE grant_id = $1 ORDER BY created_at`,
      [grantId],
    );
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.token_hash === sha256Hex(first.refresh_token!))!.rotated_at).not.toBeNull();
    expect(rows.find((r) => r.token_hash === sha256Hex(res.body.refresh_token))!.rotated_at).toBeNull();
    expect(audit.ofType('token.issued')[0]).toMatchObject({
      subject: first.userId,
      details: { grant_type: 'refresh_token', scope: 'api:read api:write', grant_id: grantId },
    });
    // the successor works, and so on
    await refresh(t, client, res.body.refresh_token).expect(200);
  });

  it('keeps the grant scope when scope is absent, narrows only the new access token when narrower', async () => {
    const first = await obtainTokens(t, client);
    const narrowed = await refresh(t, client, first.refresh_token!, { scope: 'api:read' }).expect(200);
    expect(narrowed.body.scope).toBe('api:read');
    expect(jwtClaims(narrowed.body.access_token).scope).toBe('api:read');
    const again = await refresh(t, client, narrowed.body.refresh_token).expect(200);
    expect(again.body.scope).toBe('api:read api:write');
  });

  it('refuses a wider scope with invalid_scope and does not consume the token', async () => {
    const first = await obtainTokens(t, client);
    audit.clear();
    const res = await refresh(t, client, first.refresh_token!, { scope: 'api:read admin' }).expect(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(failure()).toMatchObject({ errorCode: 'invalid_scope', reason: 'invalid_scope' });
    await refresh(t, client, first.refresh_token!).expect(200);
  });

  it('refuses a malformed scope with invalid_scope', async () => {
    const first = await obtainTokens(t, client);
    const res = await refresh(t, client, first.refresh_token!, { scope: 'api:read "quoted"' }).expect(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('refuses an unknown refresh token (refresh_unknown)', async () => {
    const res = await refresh(t, client, 'x'.repeat(43)).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(failure().reason).toBe('refresh_unknown');
  });

  it('refuses a missing refresh_token with invalid_request', async () => {
    const res = await refresh(t, client, '').expect(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it("refuses another client's refresh token without revoking anything (refresh_client_mismatch)", async () => {
    const first = await obtainTokens(t, client);
    const other = await createClient(t);
    audit.clear();
    const res = await refresh(t, other, first.refresh_token!).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(failure()).toMatchObject({ reason: 'refresh_client_mismatch', clientId: other.clientId });
    expect(audit.ofType('grant.revoked')).toHaveLength(0);
    await refresh(t, client, first.refresh_token!).expect(200);
  });

  it('refuses a refresh token past its absolute lifetime (refresh_expired)', async () => {
    const first = await obtainTokens(t, client);
    const gid = jwtClaims(first.access_token).gid;
    await sql(t.dataSource, `UPDATE grants SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      gid,
    ]);
    await sql(
      t.dataSource,
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`,
      [gid],
    );
    audit.clear();
    const res = await refresh(t, client, first.refresh_token!).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(failure().reason).toBe('refresh_expired');
  });

  it('gives the successor the absolute expiry of the grant (REFRESH_TOKEN_TTL from its start)', async () => {
    const first = await obtainTokens(t, client);
    const next = await refresh(t, client, first.refresh_token!).expect(200);
    const rows = await sql<{ expires_at: Date }>(
      t.dataSource,
      `SELECT expires_at FROM refresh_tokens WHERE token_hash = ANY($1::text[])`,
      [[sha256Hex(first.refresh_token!), sha256Hex(next.body.refresh_token)]],
    );
    expect(rows).toHaveLength(2);
    expect(new Date(rows[0].expires_at).getTime()).toBe(new Date(rows[1].expires_at).getTime());
    const days = (new Date(rows[0].expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
  });

  it('refuses a refresh token of a revoked grant', async () => {
    const first = await obtainTokens(t, client);
    await sql(t.dataSource, `UPDATE grants SET revoked_at = now(), revoke_cause = 'admin' WHERE id = $1`, [
      jwtClaims(first.access_token).gid,
    ]);
    audit.clear();
    const res = await refresh(t, client, first.refresh_token!).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(failure().reason).toBe('refresh_revoked');
  });

  it('refuses the refresh_token grant to a client whose grant types lack it (unauthorized_client)', async () => {
    const first = await obtainTokens(t, client);
    await sql(t.dataSource, `UPDATE clients SET grant_types = '{authorization_code}' WHERE client_id = $1`, [
      client.clientId,
    ]);
    try {
      audit.clear();
      const res = await refresh(t, client, first.refresh_token!).expect(400);
      expect(res.body.error).toBe('unauthorized_client');
      expect(failure()).toMatchObject({
        reason: 'unauthorized_client',
        details: { grant_type: 'refresh_token' },
      });
    } finally {
      await sql(
        t.dataSource,
        `UPDATE clients SET grant_types = '{authorization_code,refresh_token}' WHERE client_id = $1`,
        [client.clientId],
      );
    }
  });

  it('on reuse of a rotated token: invalid_grant and the whole grant revoked, atomically with its events', async () => {
    const first = await obtainTokens(t, client);
    const gid = jwtClaims(first.access_token).gid;
    const second = await refresh(t, client, first.refresh_token!).expect(200);
    audit.clear();
    const res = await refresh(t, client, first.refresh_token!).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(await grantRow(t, gid)).toMatchObject({
      revoked_at: expect.any(Date),
      revoke_cause: 'refresh_reused',
    });
    const reuse = failure();
    expect(reuse).toMatchObject({
      reason: 'refresh_reused',
      errorCode: 'invalid_grant',
      details: { grant_id: gid },
    });
    const revoked = audit.ofType('grant.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      subject: first.userId,
      details: { grant_id: gid, cause: 'refresh_reused' },
    });
    expect(reuse.manager).toBeDefined();
    expect(revoked[0].manager).toBe(reuse.manager);
    // every token of the grant is dead: the successor, and both access tokens
    await refresh(t, client, second.body.refresh_token).expect(400);
    for (const token of [first.access_token, second.body.access_token, second.body.refresh_token]) {
      expect((await introspect(t, resourceServer, token)).body).toEqual({ active: false });
    }
  });

  it('of 20 concurrent uses of one refresh token one succeeds, the rest are reuse and the grant is revoked', async () => {
    const first = await obtainTokens(t, client);
    const gid = jwtClaims(first.access_token).gid;
    audit.clear();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => refresh(t, client, first.refresh_token!)),
    );
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of responses.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('invalid_grant');
    }
    expect(audit.ofType('token.request_failed').map((e) => e.reason)).toEqual(
      Array(19).fill('refresh_reused'),
    );
    expect(audit.ofType('grant.revoked')).toHaveLength(1);
    expect(await grantRow(t, gid)).toMatchObject({ revoke_cause: 'refresh_reused' });
    await refresh(t, client, ok[0].body.refresh_token).expect(400);
  });

  it('refreshes many grants concurrently (rotations made in one turn share a statement): each in its own grant, each successor usable', async () => {
    const holders = await Promise.all(Array.from({ length: 12 }, () => obtainTokens(t, client)));
    audit.clear();
    const responses = await Promise.all(holders.map((h) => refresh(t, client, h.refresh_token!)));
    responses.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect(jwtClaims(res.body.access_token).gid).toBe(jwtClaims(holders[i].access_token).gid);
    });
    const successors = responses.map((r) => r.body.refresh_token as string);
    expect(new Set(successors).size).toBe(holders.length);
    expect(audit.ofType('token.issued')).toHaveLength(holders.length);
    // every old token is rotated (its reuse would now revoke its grant), every successor rotates once more
    for (const h of holders) {
      const [row] = await sql<{ rotated_at: Date | null }>(
        t.dataSource,
        `SELECT rotated_at FROM refresh_tokens WHERE token_hash = $1`,
        [sha256Hex(h.refresh_token!)],
      );
      expect(row.rotated_at).toBeInstanceOf(Date);
    }
    const again = await Promise.all(successors.map((token) => refresh(t, client, token)));
    expect(again.map((r) => r.status)).toEqual(successors.map(() => 200));
  });
});
