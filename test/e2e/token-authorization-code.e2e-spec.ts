import { sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  exchangeCode,
  grantRow,
  insertUserRow,
  introspectionClient,
  introspect,
  issueCode,
  jwtClaims,
  jwtHeader,
  refresh,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('POST /oauth/token grant_type=authorization_code', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let client: TestClient;
  let userId: string;
  let resourceServer: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    client = await createClient(t);
    userId = await insertUserRow(t);
    resourceServer = await introspectionClient(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  async function codeState(code: string) {
    const rows = await sql<{ consumed_at: Date | null; grant_id: string | null }>(
      t.dataSource,
      `SELECT consumed_at, grant_id FROM authorization_codes WHERE code_hash = $1`,
      [sha256Hex(code)],
    );
    return rows[0];
  }

  function failure() {
    const failures = audit.ofType('token.request_failed');
    expect(failures).toHaveLength(1);
    return failures[0];
  }

  it('issues an RFC 9068 access token and a refresh token, both belonging to a new grant', async () => {
    const code = await issueCode(t, { client, userId, scope: 'api:read' });
    const res = await exchangeCode(t, client, code).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      scope: 'api:read',
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(jwtHeader(res.body.access_token)).toMatchObject({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: expect.any(String),
    });
    const claims = jwtClaims(res.body.access_token);
    expect(claims).toEqual({
      iss: t.url,
      sub: userId,
      aud: t.url,
      client_id: client.clientId,
      scope: 'api:read',
      iat: expect.any(Number),
      exp: claims.iat + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      gid: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(await grantRow(t, claims.gid)).toMatchObject({
      revoked_at: null,
      user_id: userId,
      scope: 'api:read',
    });
    expect((await codeState(code.code)).grant_id).toBe(claims.gid);
    const rt = await sql<{ grant_id: string }>(
      t.dataSource,
      `SELECT grant_id FROM refresh_tokens WHERE token_hash = $1`,
      [sha256Hex(res.body.refresh_token)],
    );
    expect(rt).toEqual([{ grant_id: claims.gid }]);
    const issued = audit.ofType('token.issued');
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({
      outcome: 'success',
      clientId: client.clientId,
      subject: userId,
      details: { grant_type: 'authorization_code', scope: 'api:read', grant_id: claims.gid },
    });
    expect(JSON.stringify(issued[0].details)).not.toContain(code.code);
  });

  it('returns no refresh token to a client whose grant types lack refresh_token', async () => {
    const noRefresh = await createClient(t, { grantTypes: ['authorization_code'] });
    const code = await issueCode(t, { client: noRefresh, userId });
    const res = await exchangeCode(t, noRefresh, code).expect(200);
    expect(res.body.refresh_token).toBeUndefined();
    expect(res.body.scope).toBe('api:read api:write');
  });

  it('accepts a public client that sends only client_id (its proof is PKCE)', async () => {
    const spa = await createClient(t, { authMethod: 'none' });
    const code = await issueCode(t, { client: spa, userId });
    const res = await exchangeCode(t, spa, code).expect(200);
    expect(jwtClaims(res.body.access_token).client_id).toBe(spa.clientId);
  });

  it('accepts client_secret_post for a client registered with it', async () => {
    const poster = await createClient(t, { authMethod: 'client_secret_post' });
    const code = await issueCode(t, { client: poster, userId });
    await exchangeCode(t, poster, code).expect(200);
  });

  describe('request syntax, checked before any lookup', () => {
    it.each([
      ['missing', undefined],
      ['42 characters', 'a'.repeat(42)],
      ['129 characters', 'a'.repeat(129)],
      ['a character outside [A-Za-z0-9._~-]', 'a'.repeat(42) + '+'],
    ])(
      'refuses a code_verifier that is %s with invalid_request, leaving the code usable',
      async (_label, verifier) => {
        const code = await issueCode(t, { client, userId });
        const res = await exchangeCode(t, client, { code: code.code, verifier: verifier ?? '' }).expect(400);
        expect(res.body.error).toBe('invalid_request');
        expect(failure()).toMatchObject({
          errorCode: 'invalid_request',
          reason: 'pkce_verifier_malformed',
          details: { grant_type: 'authorization_code' },
        });
        expect((await codeState(code.code)).consumed_at).toBeNull();
        await exchangeCode(t, client, code).expect(200);
      },
    );

    it('refuses a missing redirect_uri with invalid_request', async () => {
      const code = await issueCode(t, { client, userId });
      const res = await exchangeCode(t, client, code, { redirect_uri: '' }).expect(400);
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toContain('redirect_uri');
    });

    it('refuses a missing code with invalid_request', async () => {
      const res = await exchangeCode(t, client, { code: '', verifier: 'a'.repeat(43) }).expect(400);
      expect(res.body.error).toBe('invalid_request');
    });
  });

  describe('the code', () => {
    it('refuses an unknown code (code_unknown)', async () => {
      const res = await exchangeCode(t, client, { code: 'nope', verifier: 'a'.repeat(43) }).expect(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(failure()).toMatchObject({
        errorCode: 'invalid_grant',
        reason: 'code_unknown',
        clientId: client.clientId,
      });
    });

    it("refuses another client's code and leaves it usable by its owner (code_client_mismatch)", async () => {
      const other = await createClient(t);
      const code = await issueCode(t, { client, userId });
      const res = await exchangeCode(t, other, code, { redirect_uri: client.redirectUri }).expect(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(failure().reason).toBe('code_client_mismatch');
      await exchangeCode(t, client, code).expect(200);
    });

    it('refuses a redirect_uri other than the authorization request’s, port included (code_redirect_uri_mismatch)', async () => {
      const loopback = await createClient(t, {
        redirectUris: ['http://127.0.0.1:8123/cb'],
      });
      const code = await issueCode(t, { client: loopback, userId });
      for (const uri of [
        'http://127.0.0.1:8124/cb',
        'http://127.0.0.1/cb',
        'http://127.0.0.1:8123/cb/',
        'http://localhost:8123/cb',
      ]) {
        audit.clear();
        const res = await exchangeCode(t, loopback, code, { redirect_uri: uri }).expect(400);
        expect(res.body.error).toBe('invalid_grant');
        expect(failure().reason).toBe('code_redirect_uri_mismatch');
      }
      await exchangeCode(t, loopback, code).expect(200);
    });

    it('refuses an expired code (code_expired)', async () => {
      const code = await issueCode(t, { client, userId });
      await sql(
        t.dataSource,
        `UPDATE authorization_codes SET expires_at = now() - interval '1 second' WHERE code_hash = $1`,
        [sha256Hex(code.code)],
      );
      const res = await exchangeCode(t, client, code).expect(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(failure().reason).toBe('code_expired');
    });
  });

  describe('PKCE verification', () => {
    it('refuses a verifier that does not match, burns the code and revokes nothing (pkce_verifier_mismatch)', async () => {
      const code = await issueCode(t, { client, userId });
      const res = await exchangeCode(t, client, { code: code.code, verifier: 'b'.repeat(43) }).expect(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(failure()).toMatchObject({
        reason: 'pkce_verifier_mismatch',
        details: { code_state: 'unused' },
      });
      const state = await codeState(code.code);
      expect(state.consumed_at).not.toBeNull();
      expect(state.grant_id).toBeNull();
      // the right verifier comes too late: the code can no longer be used, and no grant exists to revoke
      audit.clear();
      const again = await exchangeCode(t, client, code).expect(400);
      expect(again.body.error).toBe('invalid_grant');
      expect(audit.ofType('grant.revoked')).toHaveLength(0);
    });
  });

  describe('replay of a used code', () => {
    async function usedCode() {
      const code = await issueCode(t, { client, userId });
      const res = await exchangeCode(t, client, code).expect(200);
      audit.clear();
      return { code, tokens: res.body, grantId: jwtClaims(res.body.access_token).gid as string };
    }

    it('with a valid client and verifier: invalid_grant and every token of its grant revoked (code_replayed)', async () => {
      const { code, tokens, grantId } = await usedCode();
      const res = await exchangeCode(t, client, code).expect(400);
      expect(res.body.error).toBe('invalid_grant');
      expect(await grantRow(t, grantId)).toMatchObject({
        revoked_at: expect.any(Date),
        revoke_cause: 'code_replayed',
      });
      const replay = failure();
      expect(replay).toMatchObject({
        errorCode: 'invalid_grant',
        reason: 'code_replayed',
        clientId: client.clientId,
      });
      expect(replay.manager).toBeDefined(); // written in the revocation's transaction
      const revoked = audit.ofType('grant.revoked');
      expect(revoked).toHaveLength(1);
      expect(revoked[0]).toMatchObject({
        subject: userId,
        details: { grant_id: grantId, cause: 'code_replayed' },
      });
      expect(revoked[0].manager).toBe(replay.manager);
      // both rows were committed with the revocation, before the response
      const rows = await sql<{ type: string; reason: string | null }>(
        t.dataSource,
        `SELECT type, reason FROM audit_events WHERE details->>'grant_id' = $1 AND type <> 'token.issued' ORDER BY id`,
        [grantId],
      );
      expect(rows).toEqual([
        { type: 'token.request_failed', reason: 'code_replayed' },
        { type: 'grant.revoked', reason: null },
      ]);
      // the access token and the refresh token are dead
      expect((await introspect(t, resourceServer, tokens.access_token)).body).toEqual({ active: false });
      expect((await introspect(t, resourceServer, tokens.refresh_token)).body).toEqual({ active: false });
      const refreshed = await refresh(t, client, tokens.refresh_token).expect(400);
      expect(refreshed.body.error).toBe('invalid_grant');
    });

    it('with a wrong verifier: invalid_grant, nothing revoked (pkce_verifier_mismatch, code_state consumed)', async () => {
      const { code, tokens, grantId } = await usedCode();
      await exchangeCode(t, client, { code: code.code, verifier: 'c'.repeat(43) }).expect(400);
      expect(failure()).toMatchObject({
        reason: 'pkce_verifier_mismatch',
        details: { code_state: 'consumed' },
      });
      expect((await grantRow(t, grantId)).revoked_at).toBeNull();
      expect(audit.ofType('grant.revoked')).toHaveLength(0);
      expect((await introspect(t, resourceServer, tokens.access_token)).body.active).toBe(true);
    });

    it('from another client: invalid_grant, nothing revoked', async () => {
      const { code, grantId } = await usedCode();
      const other = await createClient(t);
      await exchangeCode(t, other, code, { redirect_uri: client.redirectUri }).expect(400);
      expect(failure().reason).toBe('code_client_mismatch');
      expect((await grantRow(t, grantId)).revoked_at).toBeNull();
    });

    it('with a wrong client secret: 401 invalid_client, nothing revoked', async () => {
      const { code, grantId } = await usedCode();
      const res = await exchangeCode(t, { ...client, clientSecret: 'wrong' }, code).expect(401);
      expect(res.body.error).toBe('invalid_client');
      expect(audit.ofType('client.authentication_failed')).toHaveLength(1);
      expect(audit.ofType('token.request_failed')).toHaveLength(0);
      expect((await grantRow(t, grantId)).revoked_at).toBeNull();
    });
  });

  it('of 20 concurrent exchanges of one code exactly one succeeds; the others are replays that revoke its grant', async () => {
    const code = await issueCode(t, { client, userId });
    const responses = await Promise.all(Array.from({ length: 20 }, () => exchangeCode(t, client, code)));
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r.body.error).toBe('invalid_grant');
    const grantId = jwtClaims(ok[0].body.access_token).gid;
    expect(await grantRow(t, grantId)).toMatchObject({ revoke_cause: 'code_replayed' });
    expect(audit.ofType('token.issued')).toHaveLength(1);
    expect(audit.ofType('token.request_failed').map((e) => e.reason)).toEqual(
      Array(19).fill('code_replayed'),
    );
    expect(audit.ofType('grant.revoked')).toHaveLength(1);
    const grants = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM grants WHERE id IN (SELECT grant_id FROM authorization_codes WHERE code_hash = $1)`,
      [sha256Hex(code.code)],
    );
    expect(grants[0].n).toBe(1);
    expect((await introspect(t, resourceServer, ok[0].body.access_token)).body.active).toBe(false);
  });

  it('exchanges many codes concurrently (exchanges made in one turn share a statement): each its own grant, a wrong verifier refused alone', async () => {
    const codes = await Promise.all(Array.from({ length: 12 }, () => issueCode(t, { client, userId })));
    const wrong = 5;
    const responses = await Promise.all(
      codes.map((code, i) =>
        exchangeCode(t, client, i === wrong ? { ...code, verifier: `${code.verifier}x` } : code),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(codes.map((_, i) => (i === wrong ? 400 : 200)));
    expect(responses[wrong].body.error).toBe('invalid_grant');
    expect(audit.ofType('token.request_failed').map((e) => e.reason)).toEqual(['pkce_verifier_mismatch']);
    const issued = responses.filter((_, i) => i !== wrong);
    const grantIds = issued.map((r) => jwtClaims(r.body.access_token).gid);
    expect(new Set(grantIds).size).toBe(issued.length);
    for (const [i, code] of codes.entries()) {
      const state = await codeState(code.code);
      expect(state.consumed_at).toBeInstanceOf(Date); // the wrong verifier's code is burned too
      if (i !== wrong) expect(state.grant_id).toBe(jwtClaims(responses[i].body.access_token).gid);
    }
    const refreshed = await Promise.all(issued.map((r) => refresh(t, client, r.body.refresh_token)));
    expect(refreshed.map((r) => r.status)).toEqual(issued.map(() => 200));
  });
});
