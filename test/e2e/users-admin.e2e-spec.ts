import request from 'supertest';
import { sql } from '../../src/database/sql';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { CookieJar, getWithJar, login } from '../factories/authorize';
import { adminCaller, createClient, type TestClient } from '../factories/clients';
import { browse } from '../factories/oidc';
import { pkcePair } from '../factories/pkce';
import { exchangeCode, introspect, introspectionClient, refresh, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * docs/users.md: /admin/users with users:read / users:write, cursor
 * pagination, 400 naming the field, 409 on a duplicate username; disabling or a new password ends the
 * user's sessions and revokes the user's grants; a user's grants listed and revoked per client.
 */
describe('admin REST API: /admin/users', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof adminCaller>>;
  let reader: Awaited<ReturnType<typeof adminCaller>>;
  let audit: AuditEventRecorder;
  let app: TestClient;
  let resourceServer: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    admin = await adminCaller(t, 'users:read users:write');
    reader = await adminCaller(t, 'users:read');
    audit = recordAuditEvents(t);
    app = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:5173/cb'],
      scope: 'openid profile email api:read',
    });
    resourceServer = await introspectionClient(t);
  });
  afterAll(async () => {
    audit.stop();
    await t.close();
  });

  const as = (token: string) => ({
    get: (path: string) => request(t.url).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body?: unknown) =>
      request(t.url)
        .post(path)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    patch: (path: string, body?: unknown) =>
      request(t.url)
        .patch(path)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    delete: (path: string) => request(t.url).delete(path).set('Authorization', `Bearer ${token}`),
  });
  /** The recorded events as text (without the transaction handles some carry). */
  const eventsText = () => JSON.stringify(audit.events.map(({ manager: _m, ...e }) => e));
  let n = 0;
  const newUser = async (extra: Record<string, unknown> = {}) => {
    const body = {
      username: `user-${++n}-${Date.now()}`,
      password: 'correct horse battery staple',
      ...extra,
    };
    const res = await as(admin.token).post('/admin/users', body).expect(201);
    return { ...res.body, password: body.password } as { id: string; username: string; password: string };
  };

  /** Signs the user in through the pages and gets tokens for `app` (a session and a grant). */
  async function signInAndGetTokens(user: { username: string; password: string }) {
    const jar = new CookieJar();
    const { verifier, challenge } = pkcePair();
    const q = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      response_type: 'code',
      scope: 'openid api:read',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const callback = await browse(t, jar, user, `/oauth/authorize?${q}`);
    const res = await exchangeCode(t, app, { code: callback.searchParams.get('code')!, verifier });
    expect(res.status).toBe(200);
    return { jar, tokens: res.body as { access_token: string; refresh_token: string; id_token: string } };
  }

  async function sessionAlive(jar: CookieJar): Promise<boolean> {
    const res = await getWithJar(t, jar, '/login');
    return res.text.includes('You are signed in');
  }

  it('requires users:read / users:write and refuses user tokens', async () => {
    await request(t.url).get('/admin/users').expect(401);
    await as(reader.token)
      .post('/admin/users', { username: 'x', password: 'correct horse battery' })
      .expect(403);
    const clientsAdmin = await adminCaller(t, 'clients:read');
    const denied = await as(clientsAdmin.token).get('/admin/users');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('insufficient_scope');
  });

  it('creates a user (201, no password echoed), reads and finds it; 409 for a duplicate in any case', async () => {
    const created = await as(admin.token)
      .post('/admin/users', {
        username: 'Grace',
        password: 'grace-hopper-1906',
        name: 'Grace Hopper',
        email: 'grace@example.com',
        email_verified: true,
      })
      .expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username: 'Grace',
      name: 'Grace Hopper',
      email: 'grace@example.com',
      email_verified: true,
      enabled: true,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(JSON.stringify(created.body)).not.toContain('grace-hopper-1906');
    const read = await as(reader.token).get(`/admin/users/${created.body.id}`).expect(200);
    expect(read.body).toEqual(created.body);
    const found = await as(reader.token).get('/admin/users?username=GRACE').expect(200);
    expect(found.body.items.map((u: { id: string }) => u.id)).toEqual([created.body.id]);

    const dupe = await as(admin.token).post('/admin/users', {
      username: 'ｇｒａｃｅ',
      password: 'another-long-password',
    });
    expect(dupe.status).toBe(409);
    expect(dupe.body.message).toMatch(/already exists/);
    expect(audit.ofType('user.created').at(-1)).toMatchObject({
      clientId: admin.clientId,
      subject: created.body.id,
      details: { actor: admin.clientId },
    });
    expect(eventsText()).not.toContain('grace-hopper-1906');
  });

  it('answers 400 naming each bad field, never a 500', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ username: 'ok-user', password: 'short' }, 'password'],
      [{ username: '', password: 'correct horse battery' }, 'username'],
      [{ username: 'x'.repeat(65), password: 'correct horse battery' }, 'username'],
      [{ username: 'ok-user', password: 'correct horse battery', email: 'not an address' }, 'email'],
      [{ username: 'ok-user', password: 'correct horse battery', enabled: 'yes' }, 'enabled'],
      [{ username: 'ok-user', password: 'correct horse battery', is_admin: true }, 'is_admin'],
      [{ password: 'correct horse battery' }, 'username'],
    ];
    for (const [body, field] of cases) {
      const res = await as(admin.token).post('/admin/users', body);
      expect([res.status, Object.keys(res.body.fields ?? {})]).toEqual([
        400,
        expect.arrayContaining([field]),
      ]);
    }
    await as(reader.token).get('/admin/users?limit=0').expect(400);
    const badCursor = await as(reader.token).get('/admin/users?cursor=nonsense').expect(400);
    expect(Object.keys(badCursor.body.fields)).toEqual(['cursor']);
    await as(reader.token).get('/admin/users/not-a-uuid').expect(404);
    await as(reader.token).get('/admin/users/00000000-0000-4000-8000-000000000000').expect(404);
    const patch = await as(admin.token).patch('/admin/users/00000000-0000-4000-8000-000000000000', {
      name: 'x',
    });
    expect(patch.status).toBe(404);
  });

  it('pages through every user exactly once with next_cursor', async () => {
    for (let i = 0; i < 5; i++) await newUser();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await as(reader.token)
        .get(`/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((u: { id: string }) => u.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    const [{ count }] = await sql<{ count: number }>(
      t.dataSource,
      `SELECT count(*)::int AS count FROM users`,
    );
    expect(seen).toHaveLength(count);
    expect(new Set(seen).size).toBe(count);
  });

  it('disabling a user ends its sessions, revokes its grants (introspection inactive) and blocks sign-in', async () => {
    const user = await newUser();
    const { jar, tokens } = await signInAndGetTokens(user);
    expect(await sessionAlive(jar)).toBe(true);
    expect((await introspect(t, resourceServer, tokens.access_token)).body.active).toBe(true);

    const res = await as(admin.token).patch(`/admin/users/${user.id}`, { enabled: false }).expect(200);
    expect(res.body.enabled).toBe(false);
    expect(await sessionAlive(jar)).toBe(false);
    for (const token of [tokens.access_token, tokens.refresh_token])
      expect((await introspect(t, resourceServer, token)).body.active).toBe(false);
    expect((await refresh(t, app, tokens.refresh_token)).body.error).toBe('invalid_grant');
    const info = await request(t.url)
      .get('/oauth/userinfo')
      .set('Authorization', `Bearer ${tokens.access_token}`);
    expect(info.status).toBe(401);

    // the right password no longer signs in: the same generic failure
    const again = await login(t, new CookieJar(), user);
    expect(again.status).toBe(401);
    expect(again.text).toContain('Incorrect username or password.');
    expect(audit.ofType('login.failed').at(-1)).toMatchObject({ reason: 'user_disabled', subject: user.id });
    expect(audit.ofType('user.updated').at(-1)).toMatchObject({
      subject: user.id,
      details: { actor: admin.clientId, fields: ['enabled'], cause: 'user_disabled', sessions_ended: 1 },
    });
    expect(audit.ofType('grant.revoked').at(-1)).toMatchObject({
      subject: user.id,
      details: { cause: 'user_disabled', actor: admin.clientId },
    });

    // enabled again: signs in (old tokens stay revoked)
    await as(admin.token).patch(`/admin/users/${user.id}`, { enabled: true }).expect(200);
    expect((await login(t, new CookieJar(), user)).status).toBe(302);
  });

  it('a password change ends sessions and revokes grants; the new password works, the old does not', async () => {
    const user = await newUser();
    const { jar, tokens } = await signInAndGetTokens(user);
    await as(admin.token).patch(`/admin/users/${user.id}`, { password: 'short' }).expect(400);
    await as(admin.token)
      .patch(`/admin/users/${user.id}`, { password: 'a brand new passphrase' })
      .expect(200);
    expect(await sessionAlive(jar)).toBe(false);
    expect((await introspect(t, resourceServer, tokens.access_token)).body.active).toBe(false);
    expect((await login(t, new CookieJar(), user)).status).toBe(401);
    expect((await login(t, new CookieJar(), { ...user, password: 'a brand new passphrase' })).status).toBe(
      302,
    );
    expect(eventsText()).not.toContain('a brand new passphrase');
    // a profile change alone revokes nothing
    const other = await signInAndGetTokens({ ...user, password: 'a brand new passphrase' });
    await as(admin.token).patch(`/admin/users/${user.id}`, { name: 'New Name', email: null }).expect(200);
    expect((await introspect(t, resourceServer, other.tokens.access_token)).body.active).toBe(true);
  });

  it("lists a user's grants per client and revokes one client's grants, tokens and consent", async () => {
    const user = await newUser();
    const { tokens } = await signInAndGetTokens(user);
    const second = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:5175/cb'],
      scope: 'api:read',
    });
    const grants = await as(reader.token).get(`/admin/users/${user.id}/grants`).expect(200);
    expect(grants.body).toEqual({
      items: [
        {
          client_id: app.clientId,
          client_name: expect.any(String),
          scope: 'api:read openid',
          created_at: expect.any(String),
          last_used_at: expect.any(String),
        },
      ],
      next_cursor: null,
    });
    await as(admin.token).delete(`/admin/users/${user.id}/grants/${second.clientId}`).expect(204);
    expect((await introspect(t, resourceServer, tokens.access_token)).body.active).toBe(true);
    await as(admin.token).delete(`/admin/users/${user.id}/grants/${app.clientId}`).expect(204);
    expect((await introspect(t, resourceServer, tokens.access_token)).body.active).toBe(false);
    expect((await as(reader.token).get(`/admin/users/${user.id}/grants`)).body.items).toEqual([]);
    const [consents] = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM consents WHERE user_id = $1`,
      [user.id],
    );
    expect(consents.n).toBe(0);
    expect(audit.ofType('user.grants_revoked').at(-1)).toMatchObject({
      subject: user.id,
      details: { actor: admin.clientId, client_id: app.clientId, grants: 1 },
    });
    await as(reader.token).get(`/admin/users/${user.id}/grants?cursor=%%%`).expect(400);
  });

  it('deletes a user: 204, sessions and grants gone, then 404', async () => {
    const user = await newUser();
    const { jar, tokens } = await signInAndGetTokens(user);
    await as(admin.token).delete(`/admin/users/${user.id}`).expect(204);
    expect(await sessionAlive(jar)).toBe(false);
    expect((await introspect(t, resourceServer, tokens.access_token)).body.active).toBe(false);
    await as(reader.token).get(`/admin/users/${user.id}`).expect(404);
    await as(admin.token).delete(`/admin/users/${user.id}`).expect(404);
    expect(audit.ofType('user.deleted').at(-1)).toMatchObject({ subject: user.id });
  });

  it('documents every /admin/users endpoint with examples in OpenAPI', async () => {
    const { paths, components } = (await request(t.url).get('/docs-json').expect(200)).body;
    expect(Object.keys(paths['/admin/users']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(paths['/admin/users/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(paths['/admin/users/{id}/grants'])).toEqual(['get']);
    expect(Object.keys(paths['/admin/users/{id}/grants/{client_id}'])).toEqual(['delete']);
    const post = paths['/admin/users'].post;
    expect(post.requestBody.content['application/json'].examples.profile.value.username).toBe('ada');
    expect(post.responses['201'].content['application/json'].example.id).toBeDefined();
    expect(post.responses['409']).toBeDefined();
    expect(components.schemas.CreateUserDto.properties.email.example).toBe('ada@example.com');
  });
});
