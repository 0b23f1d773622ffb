import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  introspect,
  introspectionClient,
  jwtClaims,
  obtainTokens,
  postForm,
  refresh,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('POST /oauth/introspect (RFC 7662)', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let client: TestClient;
  let resourceServer: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    client = await createClient(t);
    resourceServer = await introspectionClient(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  it('describes an active access token', async () => {
    const tokens = await obtainTokens(t, client);
    const claims = jwtClaims(tokens.access_token);
    audit.clear();
    const res = await introspect(t, resourceServer, tokens.access_token).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      active: true,
      scope: 'api:read api:write',
      client_id: client.clientId,
      sub: tokens.userId,
      exp: claims.exp,
      iat: claims.iat,
      token_type: 'Bearer',
      iss: t.url,
      aud: t.url,
      jti: claims.jti,
    });
    expect(audit.ofType('token.introspected')).toEqual([
      expect.objectContaining({
        outcome: 'success',
        clientId: resourceServer.clientId,
        details: { active: true, token_type: 'access_token' },
      }),
    ]);
  });

  it('describes an active refresh token', async () => {
    const tokens = await obtainTokens(t, client);
    const res = await introspect(t, resourceServer, tokens.refresh_token!, 'refresh_token').expect(200);
    expect(res.body).toEqual({
      active: true,
      scope: 'api:read api:write',
      client_id: client.clientId,
      sub: tokens.userId,
      exp: expect.any(Number),
      iat: expect.any(Number),
      token_type: 'refresh_token',
      iss: t.url,
      aud: t.url,
      jti: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(res.body.exp - res.body.iat).toBeGreaterThan(29 * 86400);
  });

  it('does not trust token_type_hint', async () => {
    const tokens = await obtainTokens(t, client);
    expect((await introspect(t, resourceServer, tokens.access_token, 'refresh_token')).body.active).toBe(
      true,
    );
    expect((await introspect(t, resourceServer, tokens.refresh_token!, 'access_token')).body.active).toBe(
      true,
    );
  });

  it('lets any confidential client introspect any token of this issuer', async () => {
    const tokens = await obtainTokens(t, client);
    const other = await createClient(t, { authMethod: 'client_secret_post' });
    expect((await introspect(t, other, tokens.access_token)).body.active).toBe(true);
  });

  it('reports a rotated refresh token inactive, its successor active', async () => {
    const tokens = await obtainTokens(t, client);
    const next = await refresh(t, client, tokens.refresh_token!).expect(200);
    expect((await introspect(t, resourceServer, tokens.refresh_token!)).body).toEqual({ active: false });
    expect((await introspect(t, resourceServer, next.body.refresh_token)).body.active).toBe(true);
  });

  it('reports {active:false} for expired, revoked, unknown, malformed and foreign tokens', async () => {
    const tokens = await obtainTokens(t, client);
    const claims = jwtClaims(tokens.access_token);
    const [header, , signature] = tokens.access_token.split('.');
    const expiredBody = Buffer.from(JSON.stringify({ ...claims, exp: claims.iat - 1 })).toString('base64url');
    const tampered = `${header}.${expiredBody}.${signature}`;
    const foreign = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Im5vcGUifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    // the same signature bytes spelled differently (the last character's unused low bits): not canonical
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${signature.slice(0, -1)}${alphabet[alphabet.indexOf(signature.at(-1)!) ^ 1]}`;
    expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    const otherSpelling = tokens.access_token.replace(signature, respelled);
    for (const token of [
      tampered,
      foreign,
      otherSpelling,
      'x'.repeat(43),
      'garbage',
      'a.b.c',
      'x'.repeat(5000),
    ]) {
      expect((await introspect(t, resourceServer, token)).body).toEqual({ active: false });
    }
    audit.clear();
    // expired refresh token
    await sql(
      t.dataSource,
      `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE grant_id = $1`,
      [claims.gid],
    );
    expect((await introspect(t, resourceServer, tokens.refresh_token!)).body).toEqual({ active: false });
    expect(audit.ofType('token.introspected')[0].details).toEqual({ active: false });
    // revoked grant: the access token too
    await sql(t.dataSource, `UPDATE grants SET revoked_at = now(), revoke_cause = 'admin' WHERE id = $1`, [
      claims.gid,
    ]);
    expect((await introspect(t, resourceServer, tokens.access_token)).body).toEqual({ active: false });
  });

  it('reports the tokens of a disabled or deleted client inactive at once', async () => {
    const owner = await createClient(t);
    const a = await obtainTokens(t, owner);
    expect((await introspect(t, resourceServer, a.access_token)).body.active).toBe(true);
    await sql(t.dataSource, `UPDATE clients SET enabled = false WHERE client_id = $1`, [owner.clientId]);
    expect((await introspect(t, resourceServer, a.access_token)).body).toEqual({ active: false });
    expect((await introspect(t, resourceServer, a.refresh_token!)).body).toEqual({ active: false });
    await sql(t.dataSource, `DELETE FROM clients WHERE client_id = $1`, [owner.clientId]);
    expect((await introspect(t, resourceServer, a.access_token)).body).toEqual({ active: false });
    expect((await introspect(t, resourceServer, a.refresh_token!)).body).toEqual({ active: false });
  });

  it('refuses public clients with 401 invalid_client', async () => {
    const spa = await createClient(t, { authMethod: 'none' });
    const tokens = await obtainTokens(t, client);
    audit.clear();
    const res = await introspect(t, spa, tokens.access_token).expect(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers['www-authenticate']).toBe('Basic realm="latchkey"');
    expect(audit.ofType('client.authentication_failed')[0]).toMatchObject({
      reason: 'method_not_allowed',
      clientId: spa.clientId,
      details: { endpoint: 'introspection' },
    });
    expect(audit.ofType('token.introspected')).toHaveLength(0);
  });

  it('refuses unauthenticated callers and wrong secrets with 401 invalid_client', async () => {
    const tokens = await obtainTokens(t, client);
    await request(t.url)
      .post('/oauth/introspect')
      .type('form')
      .send({ token: tokens.access_token })
      .expect(401);
    await introspect(t, { ...resourceServer, clientSecret: 'wrong' }, tokens.access_token).expect(401);
  });

  it('refuses a missing token with invalid_request', async () => {
    const res = await postForm(t, '/oauth/introspect', {}, resourceServer).expect(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
