import request from 'supertest';
import { PendingRequestsService } from '../../src/authorization/pending-requests.service';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { authorizePath } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, type TestClient, createClient } from '../factories/clients';

/**
 * docs/authorization.md, "Authorization request rules": every rule, in order, over HTTP. Failures before the redirect
 * URI is trusted are a 400 HTML page (never a redirect); later failures redirect with error,
 * error_description, state and iss. Each failure is audited as authorization.rejected with its reason.
 */
describe('GET /oauth/authorize — request rules', () => {
  let t: TestApp;
  let client: TestClient;
  let audit: AuditEventRecorder;
  const { challenge } = pkcePair();

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t, {
      ...PUBLIC_CLIENT,
      redirectUris: ['https://app.example.com/callback', 'http://127.0.0.1:8400/cb'],
      scope: 'api:read api:write',
    });
    audit = recordAuditEvents(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  const valid = () => ({
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    code_challenge: challenge,
    state: 'state-123',
  });

  const get = (path: string) => request(t.url).get(path).redirects(0);

  async function expectPage(path: string, reason: string, sentClientId?: string | null) {
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain('This sign-in link cannot be used');
    const [event] = audit.ofType('authorization.rejected');
    expect(event).toMatchObject({ outcome: 'failure', reason, details: { reason } });
    if (sentClientId !== undefined) expect(event.clientId).toBe(sentClientId);
    return res;
  }

  async function expectErrorRedirect(
    path: string,
    error: string,
    reason: string,
    options: { state?: string | null; base?: string } = {},
  ) {
    const res = await get(path);
    expect(res.status).toBe(302);
    expect(res.headers['cache-control']).toBe('no-store');
    const location = new URL(res.headers.location);
    expect(`${location.origin}${location.pathname}`).toBe(options.base ?? client.redirectUri);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('error_description')).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
    expect(location.searchParams.get('iss')).toBe(t.url);
    const state = options.state === undefined ? 'state-123' : options.state;
    if (state === null) expect(location.searchParams.has('state')).toBe(false);
    else expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.has('code')).toBe(false);
    const [event] = audit.ofType('authorization.rejected');
    expect(event).toMatchObject({ outcome: 'failure', errorCode: error, reason, clientId: client.clientId });
    return location;
  }

  describe('a valid request', () => {
    it('sends a user without a session to the login page and audits authorization.requested', async () => {
      const res = await get(authorizePath(valid()));
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login\?request=[A-Za-z0-9_-]{40,}$/);
      expect(audit.ofType('authorization.requested')).toEqual([
        expect.objectContaining({
          outcome: 'success',
          clientId: client.clientId,
          details: { scope: 'api:read api:write' },
        }),
      ]);
      expect(audit.ofType('authorization.rejected')).toHaveLength(0);
    });

    it('carries the validated request sealed through the login page: nothing stored, nothing readable', async () => {
      const stored = async () =>
        Number((await t.dataSource.query(`SELECT count(*)::int AS n FROM authorization_requests`))[0].n);
      const before = await stored();
      const res = await get(authorizePath({ ...valid(), scope: 'api:read' }));
      const id = new URL(res.headers.location, t.url).searchParams.get('request')!;
      expect(await stored()).toBe(before);
      const raw = Buffer.from(id, 'base64url').toString('latin1');
      for (const secret of ['state-123', challenge, client.redirectUri, client.clientId])
        expect(raw).not.toContain(secret);
      expect(await t.get(PendingRequestsService).find(id)).toEqual({
        clientId: client.clientId,
        redirectUri: client.redirectUri,
        scope: 'api:read',
        state: 'state-123',
        codeChallenge: challenge,
        nonce: null,
        minAuthTime: null,
        forceConsent: false,
        dpopJkt: null,
      });
      // altered in any byte, it is no request at all
      const bytes = Buffer.from(id, 'base64url');
      bytes[bytes.length >> 1] ^= 1;
      expect(await t.get(PendingRequestsService).find(bytes.toString('base64url'))).toBeUndefined();
    });

    it('accepts a registered loopback redirect URI on another port (RFC 8252 §7.3)', async () => {
      const res = await get(authorizePath({ ...valid(), redirect_uri: 'http://127.0.0.1:53111/cb' }));
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login\?request=/);
    });
  });

  describe('rule 1: client and redirect URI — a 400 page, never a redirect', () => {
    it('refuses a missing client_id', async () => {
      await expectPage(authorizePath({ ...valid(), client_id: null }), 'invalid_request', null);
    });

    it('refuses a repeated client_id', async () => {
      await expectPage(`${authorizePath(valid())}&client_id=${client.clientId}`, 'duplicate_parameter');
    });

    it('refuses a missing redirect_uri', async () => {
      await expectPage(authorizePath({ ...valid(), redirect_uri: null }), 'invalid_request', client.clientId);
    });

    it('refuses a repeated redirect_uri, even with the same value', async () => {
      await expectPage(
        `${authorizePath(valid())}&redirect_uri=${encodeURIComponent(client.redirectUri)}`,
        'duplicate_parameter',
      );
    });

    it('refuses an unknown client, recording the client_id as sent (truncated)', async () => {
      await expectPage(
        authorizePath({ ...valid(), client_id: 'no-such-client' }),
        'unknown_client',
        'no-such-client',
      );
      audit.clear();
      const long = 'x'.repeat(500);
      await expectPage(authorizePath({ ...valid(), client_id: long }), 'unknown_client', long.slice(0, 128));
    });

    it('refuses a disabled client', async () => {
      const disabled = await createClient(t, { ...PUBLIC_CLIENT, enabled: false });
      await expectPage(
        authorizePath({ ...valid(), client_id: disabled.clientId, redirect_uri: disabled.redirectUri }),
        'client_disabled',
        disabled.clientId,
      );
    });

    it.each([
      ['another host', 'https://evil.example/callback'],
      ['a trailing slash', 'https://app.example.com/callback/'],
      ['an added query', 'https://app.example.com/callback?next=/'],
      ['another scheme', 'http://app.example.com/callback'],
      ['localhost for a 127.0.0.1 registration', 'http://localhost:8400/cb'],
      ['another loopback path', 'http://127.0.0.1:8400/other'],
    ])(
      'refuses a redirect_uri with %s (redirect_uri_mismatch), even when everything else is wrong too',
      async (_n, uri) => {
        const res = await expectPage(
          authorizePath({
            client_id: client.clientId,
            redirect_uri: uri,
            response_type: 'token',
            code_challenge_method: 'plain',
          }),
          'redirect_uri_mismatch',
          client.clientId,
        );
        expect(res.text).not.toContain(uri);
      },
    );
  });

  describe('rules 2–4: errors redirect with error, error_description, state and iss', () => {
    it('refuses a missing response_type as invalid_request', async () => {
      await expectErrorRedirect(
        authorizePath({ ...valid(), response_type: null }),
        'invalid_request',
        'invalid_request',
      );
    });

    it.each(['token', 'code token', 'id_token'])(
      'refuses response_type=%s as unsupported_response_type',
      async (rt) => {
        await expectErrorRedirect(
          authorizePath({ ...valid(), response_type: rt }),
          'unsupported_response_type',
          'unsupported_response_type',
        );
      },
    );

    it('refuses a client without the authorization_code grant as unauthorized_client', async () => {
      const machine = await createClient(t, {
        ...PUBLIC_CLIENT,
        grantTypes: ['client_credentials'],
        authMethod: 'client_secret_basic',
        redirectUris: ['https://machine.example.com/cb'],
      });
      const res = await get(
        authorizePath({ ...valid(), client_id: machine.clientId, redirect_uri: machine.redirectUri }),
      );
      const location = new URL(res.headers.location);
      expect(location.searchParams.get('error')).toBe('unauthorized_client');
      expect(location.searchParams.get('iss')).toBe(t.url);
      expect(audit.ofType('authorization.rejected')[0]).toMatchObject({ reason: 'unauthorized_client' });
    });

    describe('PKCE is required for every client, S256 only', () => {
      it('refuses a missing code_challenge (pkce_missing_challenge)', async () => {
        await expectErrorRedirect(
          authorizePath({ ...valid(), code_challenge: null }),
          'invalid_request',
          'pkce_missing_challenge',
        );
      });

      it('refuses it for a confidential client too', async () => {
        const confidential = await createClient(t, {
          ...PUBLIC_CLIENT,
          authMethod: 'client_secret_basic',
          secretHash: 'a'.repeat(64),
          redirectUris: [client.redirectUri],
        });
        const res = await get(
          authorizePath({ ...valid(), client_id: confidential.clientId, code_challenge: null }),
        );
        expect(new URL(res.headers.location).searchParams.get('error')).toBe('invalid_request');
        expect(audit.ofType('authorization.rejected')[0]).toMatchObject({ reason: 'pkce_missing_challenge' });
      });

      it('refuses a missing code_challenge_method instead of assuming plain (pkce_method_missing)', async () => {
        await expectErrorRedirect(
          authorizePath({ ...valid(), code_challenge_method: null }),
          'invalid_request',
          'pkce_method_missing',
        );
      });

      it('refuses code_challenge_method=plain (pkce_plain_rejected)', async () => {
        await expectErrorRedirect(
          authorizePath({ ...valid(), code_challenge_method: 'plain' }),
          'invalid_request',
          'pkce_plain_rejected',
        );
      });

      it('refuses any other method (pkce_method_unsupported)', async () => {
        await expectErrorRedirect(
          authorizePath({ ...valid(), code_challenge_method: 's256' }),
          'invalid_request',
          'pkce_method_unsupported',
        );
      });

      it.each([
        ['too short', challenge.slice(0, 42)],
        ['too long', `${challenge}x`],
        ['not base64url', `${challenge.slice(0, 42)}+`],
      ])('refuses a challenge that is %s (pkce_malformed_challenge)', async (_n, value) => {
        await expectErrorRedirect(
          authorizePath({ ...valid(), code_challenge: value }),
          'invalid_request',
          'pkce_malformed_challenge',
        );
      });
    });

    describe('scope', () => {
      it('refuses a scope the client is not registered for (invalid_scope)', async () => {
        const narrow = await createClient(t, {
          ...PUBLIC_CLIENT,
          scope: 'api:read',
          redirectUris: [client.redirectUri],
        });
        const res = await get(
          authorizePath({ ...valid(), client_id: narrow.clientId, scope: 'api:read api:write' }),
        );
        expect(new URL(res.headers.location).searchParams.get('error')).toBe('invalid_scope');
        expect(audit.ofType('authorization.rejected')[0]).toMatchObject({
          reason: 'invalid_scope',
          errorCode: 'invalid_scope',
        });
      });

      it.each(['clients:read', 'clients:write', 'audit:read'])(
        'never grants the built-in scope %s here',
        async (scope) => {
          const admin = await createClient(t, {
            ...PUBLIC_CLIENT,
            scope: `api:read ${scope}`,
            redirectUris: [client.redirectUri],
          });
          const res = await get(authorizePath({ ...valid(), client_id: admin.clientId, scope }));
          expect(new URL(res.headers.location).searchParams.get('error')).toBe('invalid_scope');
        },
      );

      it('grants the registered non-built-in scopes when scope is absent', async () => {
        const mixed = await createClient(t, {
          ...PUBLIC_CLIENT,
          scope: 'api:read audit:read',
          redirectUris: [client.redirectUri],
        });
        const res = await get(authorizePath({ ...valid(), client_id: mixed.clientId }));
        expect(res.headers.location).toMatch(/^\/login\?request=/);
        expect(audit.ofType('authorization.requested')[0].details).toEqual({ scope: 'api:read' });
      });
    });

    it.each(['response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt'])(
      'refuses a repeated %s as invalid_request (duplicate_parameter)',
      async (name) => {
        const params: Record<string, string> = { ...valid(), scope: 'api:read', prompt: 'login' };
        const repeated = `${authorizePath(params)}&${name}=${encodeURIComponent(params[name] ?? 'code')}`;
        await expectErrorRedirect(repeated, 'invalid_request', 'duplicate_parameter', {
          state: name === 'state' ? null : 'state-123',
        });
      },
    );

    it('omits state from the error redirect when the client sent none', async () => {
      await expectErrorRedirect(
        authorizePath({ ...valid(), state: null, code_challenge_method: 'plain' }),
        'invalid_request',
        'pkce_plain_rejected',
        { state: null },
      );
    });

    it('passes state back verbatim, whatever characters it holds', async () => {
      const state = 'ä&b=c d+e%/?#';
      await expectErrorRedirect(
        authorizePath({ ...valid(), state, response_type: 'token' }),
        'unsupported_response_type',
        'unsupported_response_type',
        { state },
      );
    });

    it('redirects errors to the loopback port the client listens on', async () => {
      await expectErrorRedirect(
        authorizePath({ ...valid(), redirect_uri: 'http://127.0.0.1:53999/cb', code_challenge: null }),
        'invalid_request',
        'pkce_missing_challenge',
        { base: 'http://127.0.0.1:53999/cb' },
      );
    });
  });
});
