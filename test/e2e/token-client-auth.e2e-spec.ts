import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  basicAuth,
  exchangeCode,
  insertUserRow,
  issueCode,
  postForm,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('client authentication and request rules at POST /oauth/token', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  let basicClient: TestClient;
  let postClient: TestClient;
  let publicClient: TestClient;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    audit = recordAuditEvents(t);
    basicClient = await createClient(t, {
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    });
    postClient = await createClient(t, { authMethod: 'client_secret_post' });
    publicClient = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['https://spa.example/callback', 'com.example.app:/cb'],
    });
    userId = await insertUserRow(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const clientCredentials = (headers: Record<string, string>, form: Record<string, string> = {}) => {
    let req = request(t.url).post('/oauth/token').type('form');
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send({ grant_type: 'client_credentials', ...form });
  };

  function authFailure(reason: string, errorCode = 'invalid_client') {
    const events = audit.ofType('client.authentication_failed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: 'failure',
      errorCode,
      reason,
      details: { reason, endpoint: 'token' },
    });
    expect(audit.ofType('token.request_failed')).toHaveLength(0);
    return events[0];
  }

  function expectInvalidClient(res: request.Response) {
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers['www-authenticate']).toBe('Basic realm="latchkey"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
  }

  describe('client_secret_basic (RFC 6749 §2.3.1)', () => {
    it('decodes form-urlencoded id and secret', async () => {
      const secret = 'p a+s:s%/é~';
      const odd = await createClient(t, {
        clientId: 'odd:id+%x',
        secret,
        grantTypes: ['client_credentials'],
        redirectUris: [],
      });
      const res = await clientCredentials({ Authorization: basicAuth(odd.clientId, secret) }).expect(200);
      expect(res.body.token_type).toBe('Bearer');
      // a '+' that is not form-encoded means a space: another secret
      audit.clear();
      const raw = `Basic ${Buffer.from('odd%3Aid%2B%25x:p+a+s%3As%25%2F%C3%A9~').toString('base64')}`;
      expectInvalidClient(await clientCredentials({ Authorization: raw }));
      authFailure('bad_secret');
    });

    it.each([
      ['not base64', 'Basic !!!'],
      ['no colon', `Basic ${Buffer.from('just-an-id').toString('base64')}`],
      ['a malformed percent-encoding', `Basic ${Buffer.from('id%zz:secret').toString('base64')}`],
      ['an empty client id', `Basic ${Buffer.from(':secret').toString('base64')}`],
    ])('refuses Basic credentials with %s (invalid_client)', async (_label, header) => {
      expectInvalidClient(await clientCredentials({ Authorization: header }));
      authFailure('malformed_credentials');
    });

    it('refuses another Authorization scheme (invalid_client)', async () => {
      expectInvalidClient(await clientCredentials({ Authorization: 'Bearer abc' }));
      authFailure('method_not_allowed');
    });

    it('refuses a wrong secret (bad_secret), auditing the client_id as sent', async () => {
      expectInvalidClient(
        await clientCredentials({ Authorization: basicAuth(basicClient.clientId, 'wrong') }),
      );
      expect(authFailure('bad_secret').clientId).toBe(basicClient.clientId);
    });

    it('accepts a body client_id equal to the Basic user', async () => {
      await clientCredentials(
        { Authorization: basicAuth(basicClient.clientId, basicClient.clientSecret!) },
        { client_id: basicClient.clientId },
      ).expect(200);
    });

    it('refuses Basic plus a body client_secret: one method per request (invalid_request)', async () => {
      const res = await clientCredentials(
        { Authorization: basicAuth(basicClient.clientId, basicClient.clientSecret!) },
        { client_secret: basicClient.clientSecret! },
      ).expect(400);
      expect(res.body.error).toBe('invalid_request');
      authFailure('multiple_methods', 'invalid_request');
    });

    it('refuses a body client_id other than the Basic user (invalid_request)', async () => {
      const res = await clientCredentials(
        { Authorization: basicAuth(basicClient.clientId, basicClient.clientSecret!) },
        { client_id: postClient.clientId },
      ).expect(400);
      expect(res.body.error).toBe('invalid_request');
      authFailure('multiple_methods', 'invalid_request');
    });
  });

  describe('the registered method only', () => {
    it('refuses client_secret_post from a client_secret_basic client (method_not_allowed)', async () => {
      expectInvalidClient(
        await clientCredentials(
          {},
          { client_id: basicClient.clientId, client_secret: basicClient.clientSecret! },
        ),
      );
      authFailure('method_not_allowed');
    });

    it('refuses Basic from a client_secret_post client (method_not_allowed)', async () => {
      const code = await issueCode(t, { client: postClient, userId });
      expectInvalidClient(await exchangeCode(t, { ...postClient, authMethod: 'client_secret_basic' }, code));
      authFailure('method_not_allowed');
    });

    it('refuses client_id alone from a confidential client (method_not_allowed)', async () => {
      const code = await issueCode(t, { client: basicClient, userId });
      expectInvalidClient(await exchangeCode(t, { ...basicClient, authMethod: 'none' }, code));
      authFailure('method_not_allowed');
    });

    it('refuses a secret from a public client (method_not_allowed)', async () => {
      const code = await issueCode(t, { client: publicClient, userId });
      expectInvalidClient(
        await exchangeCode(t, { ...publicClient, authMethod: 'client_secret_post', clientSecret: 'x' }, code),
      );
      authFailure('method_not_allowed');
    });

    it('accepts client_secret_post from a client_secret_post client and refuses its wrong secret', async () => {
      const code = await issueCode(t, { client: postClient, userId });
      expectInvalidClient(await exchangeCode(t, { ...postClient, clientSecret: 'nope' }, code));
      authFailure('bad_secret');
      await exchangeCode(t, postClient, code).expect(200);
    });
  });

  describe('unknown, disabled and missing clients', () => {
    it('refuses an unknown client (unknown_client), auditing its id truncated', async () => {
      const longId = 'u'.repeat(300);
      expectInvalidClient(await clientCredentials({}, { client_id: longId, client_secret: 's' }));
      expect(authFailure('unknown_client').clientId).toBe('u'.repeat(128));
    });

    it('refuses a disabled client (unknown_client)', async () => {
      const disabled = await createClient(t, {
        enabled: false,
        grantTypes: ['client_credentials'],
        redirectUris: [],
      });
      expectInvalidClient(
        await clientCredentials({ Authorization: basicAuth(disabled.clientId, disabled.clientSecret!) }),
      );
      authFailure('unknown_client');
    });

    it('refuses a request without any client authentication (invalid_client)', async () => {
      expectInvalidClient(await clientCredentials({}));
      authFailure('unknown_client');
    });
  });

  describe('request rules', () => {
    it('accepts only application/x-www-form-urlencoded (invalid_request)', async () => {
      const json = await request(t.url)
        .post('/oauth/token')
        .set('Authorization', basicAuth(basicClient.clientId, basicClient.clientSecret!))
        .send({ grant_type: 'client_credentials' })
        .expect(400);
      expect(json.body.error).toBe('invalid_request');
      expect(json.headers['cache-control']).toBe('no-store');
      const text = await request(t.url)
        .post('/oauth/token')
        .set('Content-Type', 'text/plain')
        .send('grant_type=client_credentials')
        .expect(400);
      expect(text.body.error).toBe('invalid_request');
      const empty = await request(t.url).post('/oauth/token').expect(400);
      expect(empty.body.error).toBe('invalid_request');
      expect(audit.ofType('token.request_failed')).toHaveLength(3);
    });

    it('refuses a repeated parameter (invalid_request) before authenticating the client', async () => {
      const res = await request(t.url)
        .post('/oauth/token')
        .type('form')
        .set('Authorization', basicAuth(basicClient.clientId, 'wrong'))
        .send('grant_type=client_credentials&scope=api:read&scope=api:write')
        .expect(400);
      expect(res.body).toMatchObject({
        error: 'invalid_request',
        error_description: 'parameter scope is repeated',
      });
      expect(audit.ofType('token.request_failed')[0]).toMatchObject({
        reason: 'invalid_request',
        details: { grant_type: 'client_credentials' },
      });
      expect(audit.ofType('client.authentication_failed')).toHaveLength(0);
    });

    it('refuses a missing grant_type (invalid_request)', async () => {
      const res = await postForm(t, '/oauth/token', {}, basicClient).expect(400);
      expect(res.body.error).toBe('invalid_request');
    });

    it.each(['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code'])(
      'refuses grant_type=%s (unsupported_grant_type)',
      async (grantType) => {
        const res = await postForm(t, '/oauth/token', { grant_type: grantType }, basicClient).expect(400);
        expect(res.body.error).toBe('unsupported_grant_type');
        expect(audit.ofType('token.request_failed')[0]).toMatchObject({
          errorCode: 'unsupported_grant_type',
          reason: 'unsupported_grant_type',
          details: { grant_type: grantType },
        });
      },
    );

    it('refuses a grant type the client is not registered for (unauthorized_client)', async () => {
      const res = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, postClient).expect(
        400,
      );
      expect(res.body.error).toBe('unauthorized_client');
      expect(audit.ofType('token.request_failed')[0]).toMatchObject({
        errorCode: 'unauthorized_client',
        reason: 'unauthorized_client',
        clientId: postClient.clientId,
        details: { grant_type: 'client_credentials' },
      });
    });

    it('refuses client_credentials from a public client even if registered with it (unauthorized_client)', async () => {
      const odd = await createClient(t, { authMethod: 'none', grantTypes: ['client_credentials'] });
      const res = await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, odd).expect(400);
      expect(res.body.error).toBe('unauthorized_client');
    });

    it('answers an oversized body with 413 and an error JSON', async () => {
      const res = await request(t.url)
        .post('/oauth/token')
        .type('form')
        .send(`grant_type=client_credentials&scope=${'a'.repeat(20_000)}`)
        .expect(413);
      expect(res.body.error).toBe('invalid_request');
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('never answers bad input with a 500', async () => {
      const bodies = [
        'grant_type=authorization_code&code[]=x',
        'grant_type=authorization_code&code=%ff&redirect_uri=x&code_verifier=' + 'a'.repeat(43),
        'grant_type=refresh_token&refresh_token=' + '\u0000'.repeat(10),
        'client_id=' + encodeURIComponent('\u0000\u0001') + '&grant_type=client_credentials',
        '__proto__=x&grant_type=client_credentials',
        'grant_type=client_credentials&client_id=' + 'x'.repeat(5000),
      ];
      for (const body of bodies) {
        const res = await request(t.url).post('/oauth/token').type('form').send(body);
        expect(res.status).toBeLessThan(500);
        expect(res.body.error).toEqual(expect.any(String));
      }
    });
  });

  describe('CORS (browser-based clients)', () => {
    it('allows the origins of the calling client’s redirect URIs, and only those', async () => {
      const code = await issueCode(t, { client: publicClient, userId });
      const res = await request(t.url)
        .post('/oauth/token')
        .type('form')
        .set('Origin', 'https://spa.example')
        .send({
          grant_type: 'authorization_code',
          client_id: publicClient.clientId,
          code: code.code,
          redirect_uri: publicClient.redirectUri,
          code_verifier: code.verifier,
        })
        .expect(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://spa.example');
      expect(res.headers['vary']).toContain('Origin');
      // errors are readable by the page too
      const failed = await request(t.url)
        .post('/oauth/token')
        .type('form')
        .set('Origin', 'https://spa.example')
        .send({
          grant_type: 'refresh_token',
          client_id: publicClient.clientId,
          refresh_token: 'x'.repeat(43),
        })
        .expect(400);
      expect(failed.headers['access-control-allow-origin']).toBe('https://spa.example');
      const evil = await request(t.url)
        .post('/oauth/token')
        .type('form')
        .set('Origin', 'https://evil.example')
        .send({
          grant_type: 'refresh_token',
          client_id: publicClient.clientId,
          refresh_token: 'x'.repeat(43),
        })
        .expect(400);
      expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('answers preflights of token and revocation, and the actual request decides', async () => {
      for (const path of ['/oauth/token', '/oauth/revoke']) {
        const res = await request(t.url)
          .options(path)
          .set('Origin', 'https://spa.example')
          .set('Access-Control-Request-Method', 'POST')
          .set('Access-Control-Request-Headers', 'content-type')
          .expect(204);
        expect(res.headers['access-control-allow-origin']).toBe('https://spa.example');
        expect(res.headers['access-control-allow-methods']).toContain('POST');
        expect(res.headers['access-control-allow-headers']?.toLowerCase()).toContain('content-type');
      }
    });

    it('answers no CORS at introspection (for resource servers, not browsers)', async () => {
      const res = await request(t.url).options('/oauth/introspect').set('Origin', 'https://spa.example');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('allows the origin at revocation for the calling client', async () => {
      const res = await request(t.url)
        .post('/oauth/revoke')
        .type('form')
        .set('Origin', 'https://spa.example')
        .send({ client_id: publicClient.clientId, token: 'x'.repeat(43) })
        .expect(200);
      expect(res.headers['access-control-allow-origin']).toBe('https://spa.example');
    });
  });

  it('counts nothing against the lockout when the client is public', async () => {
    const rows = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM lockouts WHERE key LIKE $1`,
      [`${publicClient.clientId}|%`],
    );
    expect(rows[0].n).toBe(0);
  });
});
