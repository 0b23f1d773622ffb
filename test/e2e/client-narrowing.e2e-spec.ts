import request from 'supertest';
import { sql } from '../../src/database/sql';
import {
  adminCaller,
  createClient,
  PUBLIC_CLIENT,
  type TestClient as TokenClient,
} from '../factories/clients';
import {
  CookieJar,
  authorizePath,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  requestIdOf,
} from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { insertUserRow, issueCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * Issue 13, finding 4: narrowing a client (scope, redirect URIs) or disabling it reaches the codes not yet
 * exchanged and the authorization requests still waiting for login or consent, not only the grants.
 */
describe('narrowing or disabling a client reaches codes and pending requests in flight', () => {
  let t: TestApp;
  let admin: { token: string };
  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    admin = await adminCaller(t);
  });
  afterAll(() => t.close());

  const patch = (clientId: string, body: Record<string, unknown>) =>
    request(t.url)
      .patch(`/admin/clients/${clientId}`)
      .set('Authorization', `Bearer ${admin.token}`)
      .send(body)
      .expect(200);

  const exchange = (client: TokenClient, code: { code: string; verifier: string }) =>
    request(t.url).post('/oauth/token').type('form').send({
      grant_type: 'authorization_code',
      code: code.code,
      redirect_uri: client.redirectUri,
      code_verifier: code.verifier,
      client_id: client.clientId,
    });

  it('a code issued before a scope is taken away no longer exchanges (not for the old scope either)', async () => {
    const client = await createClient(t, { ...PUBLIC_CLIENT, scope: 'api:read api:write' });
    const code = await issueCode(t, { client, userId: await insertUserRow(t), scope: 'api:read api:write' });
    await patch(client.clientId, { scope: 'api:read' });
    const res = await exchange(client, code);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(res.body.refresh_token).toBeUndefined();
    const [updated] = await sql<{ details: Record<string, unknown> }>(
      t.dataSource,
      `SELECT details FROM audit_events WHERE type = 'client.updated' AND subject = $1`,
      [client.clientId],
    );
    expect(updated.details).toMatchObject({ voided_codes: 1 });
  });

  it('a code issued before the client was disabled no longer exchanges, after re-enabling either', async () => {
    const client = await createClient(t, PUBLIC_CLIENT);
    const code = await issueCode(t, { client, userId: await insertUserRow(t) });
    await patch(client.clientId, { enabled: false });
    await patch(client.clientId, { enabled: true });
    expect((await exchange(client, code)).status).toBe(400);
  });

  it('approving a request pending before its redirect URI was removed does not redirect there', async () => {
    const removed = 'http://127.0.0.1:4999/old-callback';
    const client = await createClient(t, {
      ...PUBLIC_CLIENT,
      redirectUris: [removed, 'http://127.0.0.1:4999/callback'],
      requireConsent: true,
    });
    const jar = new CookieJar();
    const { challenge } = pkcePair();
    const start = await getWithJar(
      t,
      jar,
      authorizePath({
        client_id: client.clientId,
        redirect_uri: removed,
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        scope: 'api:read',
      }),
    );
    expect(start.status).toBe(302);
    const requestId = requestIdOf(start.headers.location as string);
    await patch(client.clientId, { redirect_uris: ['http://127.0.0.1:4999/callback'] });
    const user = await createUser(t);
    let res = await login(t, jar, user, requestId);
    const consent = String(res.headers.location ?? '');
    if (consent.startsWith('/consent')) {
      const page = await getWithJar(t, jar, consent);
      res =
        page.status === 200
          ? await postFormWithJar(t, jar, '/consent', {
              _csrf: csrfTokenOf(page.text),
              request: requestId,
              decision: 'approve',
            })
          : page;
    }
    // the pending request is gone: no code, and nothing sent to the removed URI
    expect(String(res.headers.location ?? '')).not.toContain(removed);
    expect(String(res.headers.location ?? '')).not.toContain('code=');
    expect(res.status).toBeGreaterThanOrEqual(400);
  });

  it('keeps codes and pending requests when nothing is narrowed', async () => {
    const client = await createClient(t, PUBLIC_CLIENT);
    const code = await issueCode(t, { client, userId: await insertUserRow(t) });
    await patch(client.clientId, { client_name: 'Renamed' });
    expect((await exchange(client, code)).status).toBe(200);
  });
});
