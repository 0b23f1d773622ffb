import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  grantRow,
  introspect,
  introspectionClient,
  jwtClaims,
  obtainTokens,
  postForm,
  refresh,
  revoke,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('POST /oauth/revoke (RFC 7009)', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let client: TestClient;
  let spa: TestClient;
  let resourceServer: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    client = await createClient(t);
    spa = await createClient(t, { authMethod: 'none' });
    resourceServer = await introspectionClient(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const active = async (token: string) => (await introspect(t, resourceServer, token)).body.active;

  it('revokes a refresh token and with it its whole grant (every access token too), atomically with its events', async () => {
    const tokens = await obtainTokens(t, client);
    const gid = jwtClaims(tokens.access_token).gid;
    audit.clear();
    const res = await revoke(t, client, tokens.refresh_token!, 'refresh_token').expect(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await grantRow(t, gid)).toMatchObject({
      revoked_at: expect.any(Date),
      revoke_cause: 'revocation_request',
    });
    const revoked = audit.ofType('token.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({
      outcome: 'success',
      clientId: client.clientId,
      details: { token_type: 'refresh_token' },
    });
    const grantEvents = audit.ofType('grant.revoked');
    expect(grantEvents).toHaveLength(1);
    expect(grantEvents[0]).toMatchObject({
      subject: tokens.userId,
      details: { grant_id: gid, cause: 'revocation_request' },
    });
    expect(grantEvents[0].manager).toBeDefined();
    expect(grantEvents[0].manager).toBe(revoked[0].manager);
    expect(await active(tokens.access_token)).toBe(false);
    expect(await active(tokens.refresh_token!)).toBe(false);
    await refresh(t, client, tokens.refresh_token!).expect(400);
  });

  it('revokes an access token by its jti, leaving the rest of the grant alive', async () => {
    const tokens = await obtainTokens(t, client);
    const claims = jwtClaims(tokens.access_token);
    audit.clear();
    await revoke(t, client, tokens.access_token, 'access_token').expect(200);
    const rows = await sql<{ grant_id: string; expires: number }>(
      t.dataSource,
      `SELECT grant_id, extract(epoch FROM expires_at)::int AS expires FROM revoked_access_tokens WHERE jti = $1`,
      [claims.jti],
    );
    expect(rows).toEqual([{ grant_id: claims.gid, expires: claims.exp }]);
    expect(audit.ofType('token.revoked')[0]).toMatchObject({
      details: { token_type: 'access_token', grant_id: claims.gid },
    });
    expect(audit.ofType('grant.revoked')).toHaveLength(0);
    expect(await active(tokens.access_token)).toBe(false);
    expect(await active(tokens.refresh_token!)).toBe(true);
    await refresh(t, client, tokens.refresh_token!).expect(200);
  });

  it('honours token_type_hint but does not trust it (a wrong hint still revokes)', async () => {
    const a = await obtainTokens(t, client);
    await revoke(t, client, a.access_token, 'refresh_token').expect(200);
    expect(await active(a.access_token)).toBe(false);
    const b = await obtainTokens(t, client);
    await revoke(t, client, b.refresh_token!, 'access_token').expect(200);
    expect(await active(b.refresh_token!)).toBe(false);
    const c = await obtainTokens(t, client);
    await revoke(t, client, c.refresh_token!, 'something_else').expect(200);
    expect(await active(c.refresh_token!)).toBe(false);
  });

  it('lets a public client revoke its own tokens with client_id only', async () => {
    const tokens = await obtainTokens(t, spa);
    await revoke(t, spa, tokens.refresh_token!).expect(200);
    expect(await active(tokens.access_token)).toBe(false);
  });

  it("answers 200 for another client's tokens and revokes nothing", async () => {
    const tokens = await obtainTokens(t, client);
    const other = await createClient(t);
    audit.clear();
    await revoke(t, other, tokens.refresh_token!).expect(200);
    await revoke(t, other, tokens.access_token).expect(200);
    expect(await active(tokens.access_token)).toBe(true);
    expect(await active(tokens.refresh_token!)).toBe(true);
    expect(audit.ofType('token.revoked')).toHaveLength(0);
    expect(audit.ofType('token.revocation_failed').map((e) => e.reason)).toEqual([
      'token_client_mismatch',
      'token_client_mismatch',
    ]);
  });

  it('answers 200 for unknown, malformed and foreign tokens', async () => {
    const foreign = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Im5vcGUifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    for (const token of ['x'.repeat(43), 'not a token', foreign, 'a.b.c']) {
      await revoke(t, client, token).expect(200);
    }
    expect(audit.ofType('token.revocation_failed').map((e) => e.reason)).toEqual(
      Array(4).fill('unknown_token'),
    );
  });

  it('refuses a missing token with invalid_request', async () => {
    const res = await postForm(t, '/oauth/revoke', {}, client).expect(400);
    expect(res.body.error).toBe('invalid_request');
    expect(audit.ofType('token.revocation_failed')[0]).toMatchObject({ errorCode: 'invalid_request' });
  });

  it('refuses a repeated parameter and a non-form body with invalid_request', async () => {
    const repeated = await request(t.url)
      .post('/oauth/revoke')
      .type('form')
      .send(`client_id=${spa.clientId}&token=a&token=b`)
      .expect(400);
    expect(repeated.body.error).toBe('invalid_request');
    const json = await request(t.url)
      .post('/oauth/revoke')
      .send({ client_id: spa.clientId, token: 'a' })
      .expect(400);
    expect(json.body.error).toBe('invalid_request');
  });

  it('authenticates like the token endpoint: a wrong secret is 401 invalid_client', async () => {
    const tokens = await obtainTokens(t, client);
    audit.clear();
    const res = await revoke(t, { ...client, clientSecret: 'wrong' }, tokens.refresh_token!).expect(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers['www-authenticate']).toBe('Basic realm="latchkey"');
    expect(audit.ofType('client.authentication_failed')[0]).toMatchObject({
      reason: 'bad_secret',
      details: { endpoint: 'revocation' },
    });
    expect(await active(tokens.refresh_token!)).toBe(true);
  });

  it('revoking twice is harmless', async () => {
    const tokens = await obtainTokens(t, client);
    await revoke(t, client, tokens.access_token).expect(200);
    await revoke(t, client, tokens.access_token).expect(200);
    await revoke(t, client, tokens.refresh_token!).expect(200);
    audit.clear();
    await revoke(t, client, tokens.refresh_token!).expect(200);
    expect(audit.ofType('grant.revoked')).toHaveLength(0);
  });
});
