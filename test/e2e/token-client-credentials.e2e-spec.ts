import { createRemoteJWKSet, jwtVerify } from 'jose';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { jwtClaims, postForm, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('POST /oauth/token grant_type=client_credentials', () => {
  const audience = 'https://api.example';
  let t: TestApp;
  let audit: AuditEventRecorder;
  let service: TestClient;
  let admin: TestClient;

  beforeAll(async () => {
    t = await createTestApp({ ...TOKEN_TEST_ENV, ACCESS_TOKEN_AUDIENCE: audience });
    audit = recordAuditEvents(t);
    service = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'api:read api:write',
      redirectUris: [],
    });
    admin = await createClient(t, {
      authMethod: 'client_secret_post',
      grantTypes: ['client_credentials'],
      scope: 'clients:read clients:write',
      redirectUris: [],
    });
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const grant = (client: TestClient, form: Record<string, string> = {}) =>
    postForm(t, '/oauth/token', { grant_type: 'client_credentials', ...form }, client);

  it('issues a JWT access token for the client itself, never a refresh token, verifiable with jose against the JWKS', async () => {
    const res = await grant(service).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'api:read api:write',
    });
    const jwks = createRemoteJWKSet(new URL(`${t.url}/oauth/jwks`));
    const { payload, protectedHeader } = await jwtVerify(res.body.access_token, jwks, {
      issuer: t.url,
      audience,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toEqual(expect.any(String));
    expect(payload).toMatchObject({
      sub: service.clientId,
      client_id: service.clientId,
      scope: 'api:read api:write',
    });
    expect(payload.exp! - payload.iat!).toBe(900);
    expect(audit.ofType('token.issued')[0]).toMatchObject({
      subject: service.clientId,
      clientId: service.clientId,
      details: { grant_type: 'client_credentials', scope: 'api:read api:write', grant_id: payload.gid },
    });
  });

  it('records a client_credentials grant per issuance, expiring with the access token', async () => {
    const a = jwtClaims((await grant(service).expect(200)).body.access_token);
    const b = jwtClaims((await grant(service).expect(200)).body.access_token);
    expect(a.gid).not.toBe(b.gid);
    const rows = await sql<{ grant_type: string; user_id: string | null; scope: string; ttl: number }>(
      t.dataSource,
      `SELECT grant_type, user_id, scope, extract(epoch FROM expires_at - created_at)::int AS ttl FROM grants WHERE id = $1`,
      [a.gid],
    );
    expect(rows).toEqual([
      { grant_type: 'client_credentials', user_id: null, scope: 'api:read api:write', ttl: 900 },
    ]);
  });

  it('grants a requested subset of the registered scope', async () => {
    const res = await grant(service, { scope: 'api:write' }).expect(200);
    expect(res.body.scope).toBe('api:write');
    expect(jwtClaims(res.body.access_token).scope).toBe('api:write');
  });

  it('refuses a scope beyond the registered one (invalid_scope)', async () => {
    const res = await grant(service, { scope: 'api:read clients:write' }).expect(400);
    expect(res.body.error).toBe('invalid_scope');
    expect(audit.ofType('token.request_failed')[0]).toMatchObject({
      errorCode: 'invalid_scope',
      reason: 'invalid_scope',
      details: { grant_type: 'client_credentials' },
    });
  });

  it('gives tokens carrying built-in scopes the issuer as audience, others ACCESS_TOKEN_AUDIENCE', async () => {
    const adminToken = (await grant(admin).expect(200)).body.access_token;
    expect(jwtClaims(adminToken).aud).toBe(t.url);
    const apiToken = (await grant(service).expect(200)).body.access_token;
    expect(jwtClaims(apiToken).aud).toBe(audience);
  });

  it('issues tokens that this server’s admin API accepts (bearer guard, scopes)', async () => {
    const adminToken = (await grant(admin, { scope: 'clients:read' }).expect(200)).body.access_token;
    const res = await fetch(`${t.url}/admin/clients?limit=1`, {
      headers: { Authorization: `Bearer ${adminToken}` },
    });
    expect(res.status).toBe(200);
  });
});
