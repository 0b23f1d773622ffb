import { createHash } from 'node:crypto';
import request from 'supertest';
import { ClientsService } from '../../src/clients/clients.service';
import { sql } from '../../src/database/sql';
import { AccessTokenVerifier } from '../../src/keys/access-token.verifier';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { adminCaller, buildClient, insertGrant, mintAccessToken, registerClient } from '../factories/clients';
import { createTestApp, TestApp } from '../helpers/test-app';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const SECRET_FIELDS = ['client_secret', 'secret_hash', 'previous_secret_hash', 'previous_secret_expires_at'];

describe('admin REST API: /admin/clients', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof adminCaller>>;
  let reader: Awaited<ReturnType<typeof adminCaller>>;
  let audit: AuditEventRecorder;

  beforeAll(async () => {
    t = await createTestApp({ SCOPES: 'api:read api:write', CLIENT_SECRET_ROTATION_OVERLAP: '0s' });
    admin = await adminCaller(t, 'clients:read clients:write');
    reader = await adminCaller(t, 'clients:read');
    audit = recordAuditEvents(t);
  });
  afterAll(async () => {
    audit.stop();
    await t.close();
  });

  const api = () => request(t.url);
  const as = (token: string) => ({
    get: (path: string) => api().get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body?: unknown) =>
      api()
        .post(path)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    patch: (path: string, body?: unknown) =>
      api()
        .patch(path)
        .set('Authorization', `Bearer ${token}`)
        .send(body as object),
    delete: (path: string) => api().delete(path).set('Authorization', `Bearer ${token}`),
  });
  /** Every clear secret this file has seen: none may ever appear in the database. */
  const secretsSeen: string[] = [];
  const create = async (body: Record<string, unknown> = buildClient()) => {
    const created = (await as(admin.token).post('/admin/clients', body).expect(201)).body;
    if (created.client_secret) secretsSeen.push(created.client_secret);
    return created;
  };
  const secretMatches = async (clientId: string, secret: string) =>
    (await t.get(ClientsService).findEnabled(clientId))?.secretMatches(secret) ?? false;
  const clientsTableText = async () =>
    (await sql<{ row: string }>(t.dataSource, `SELECT c::text AS row FROM clients c`))
      .map((r) => r.row)
      .join('\n');

  describe('authentication and scopes', () => {
    const endpoints: Array<[string, string]> = [
      ['post', '/admin/clients'],
      ['get', '/admin/clients'],
      ['get', '/admin/clients/lk_whatever'],
      ['patch', '/admin/clients/lk_whatever'],
      ['delete', '/admin/clients/lk_whatever'],
      ['post', '/admin/clients/lk_whatever/secret'],
    ];

    it.each(endpoints)('%s %s without a token → 401 with WWW-Authenticate: Bearer', async (method, path) => {
      const res = await (api() as any)[method](path).send({}).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(res.body.error).toBe('invalid_token');
    });

    it.each(endpoints)('%s %s with a malformed token → 401', async (method, path) => {
      const res = await (api() as any)
        [method](path)
        .set('Authorization', 'Bearer not-a-jwt')
        .send({})
        .expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    });

    it('refuses a token whose signature was tampered with', async () => {
      const [h, p, s] = admin.token.split('.');
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      const forged = Buffer.from(JSON.stringify({ ...claims, scope: 'clients:write audit:read' })).toString(
        'base64url',
      );
      await as(`${h}.${forged}.${s}`).get('/admin/clients').expect(401);
    });

    it('refuses an expired token, a token of another issuer and a token for a user', async () => {
      const base = { clientId: admin.clientId, scope: 'clients:read clients:write', grantId: admin.grantId };
      const now = Math.floor(Date.now() / 1000);
      const expired = mintAccessToken(t, base, { iat: now - 1000, exp: now - 10 });
      const foreign = mintAccessToken(t, base, { iss: 'https://elsewhere.example' });
      const userToken = mintAccessToken(t, base, { sub: '0b6f7c7e-3e43-4d8f-9a3f-6b6a3f3f0a11' });
      for (const token of [expired, foreign, userToken]) {
        const res = await as(token).get('/admin/clients').expect(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      }
    });

    it('refuses the Basic scheme and an empty bearer', async () => {
      await api()
        .get('/admin/clients')
        .set('Authorization', `Basic ${btoa('a:b')}`)
        .expect(401);
      await api().get('/admin/clients').set('Authorization', 'Bearer ').expect(401);
    });

    it('lets clients:read read but not change (403 insufficient_scope)', async () => {
      const { client_id } = await create();
      await as(reader.token).get('/admin/clients').expect(200);
      await as(reader.token).get(`/admin/clients/${client_id}`).expect(200);
      const attempts = [
        as(reader.token).post('/admin/clients', buildClient()),
        as(reader.token).patch(`/admin/clients/${client_id}`, { client_name: 'x' }),
        as(reader.token).delete(`/admin/clients/${client_id}`),
        as(reader.token).post(`/admin/clients/${client_id}/secret`),
      ];
      for (const attempt of attempts) {
        const res = await attempt.expect(403);
        expect(res.body.error).toBe('insufficient_scope');
        expect(res.headers['www-authenticate']).toMatch(/^Bearer .*insufficient_scope/);
      }
      await as(admin.token).get(`/admin/clients/${client_id}`).expect(200);
    });

    it('does not let clients:write alone read', async () => {
      const writer = await adminCaller(t, 'clients:write');
      const res = await as(writer.token).get('/admin/clients').expect(403);
      expect(res.body.error).toBe('insufficient_scope');
    });
  });

  describe('POST /admin/clients', () => {
    it('registers a confidential client and shows its secret once', async () => {
      const res = await as(admin.token).post('/admin/clients', buildClient()).expect(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.body;
      expect(body).toEqual({
        client_id: expect.any(String),
        client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        client_name: 'Billing dashboard',
        redirect_uris: ['https://billing.example.com/oauth/callback'],
        post_logout_redirect_uris: [],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'api:read',
        require_consent: false,
        enabled: true,
        dpop_bound_access_tokens: false,
        require_pushed_authorization_requests: false,
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
      expect(await secretMatches(body.client_id, body.client_secret)).toBe(true);
      expect(await secretMatches(body.client_id, body.client_secret + 'x')).toBe(false);
    });

    it('registers and updates post_logout_redirect_uris (RP-Initiated Logout), validated like redirect_uris', async () => {
      const body = await create(
        buildClient({ post_logout_redirect_uris: ['https://billing.example.com/signed-out'] }),
      );
      expect(body.post_logout_redirect_uris).toEqual(['https://billing.example.com/signed-out']);
      const bad = await as(admin.token).post(
        '/admin/clients',
        buildClient({ post_logout_redirect_uris: ['http://evil.example/out'] }),
      );
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.fields)).toEqual(['post_logout_redirect_uris']);
      expect(bad.body.fields.post_logout_redirect_uris[0]).toMatch(/^post_logout_redirect_uris\[0\]/);
      const patched = await as(admin.token)
        .patch(`/admin/clients/${body.client_id}`, { post_logout_redirect_uris: [] })
        .expect(200);
      expect(patched.body.post_logout_redirect_uris).toEqual([]);
    });

    it('gives random client ids that are short and never UUID-shaped', async () => {
      const ids = await Promise.all([1, 2, 3].map(async () => (await create()).client_id as string));
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) {
        expect(id.length).toBeLessThanOrEqual(64);
        expect(id).toMatch(/^[\x21-\x7e]+$/);
        expect(UUID.test(id)).toBe(false);
        expect(UUID.test(id.replace(/^lk_/, ''))).toBe(false);
      }
    });

    it('applies the defaults: authorization_code, client_secret_basic, no scope, no forced consent', async () => {
      const body = await create({ client_name: 'Defaults', redirect_uris: ['https://a.example/cb'] });
      expect(body).toMatchObject({
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: '',
        require_consent: false,
        enabled: true,
      });
    });

    it('registers a public native client without a secret (private-use scheme and loopback URIs)', async () => {
      const body = await create({
        client_name: 'Mobile app',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['com.example.app:/oauth/callback', 'http://127.0.0.1/cb', 'http://[::1]:8080/cb'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: 'api:read api:write',
        require_consent: true,
      });
      expect(body.client_secret).toBeUndefined();
      expect(body.token_endpoint_auth_method).toBe('none');
      expect(body.require_consent).toBe(true);
      const found = await t.get(ClientsService).findEnabled(body.client_id);
      expect(found?.isPublic).toBe(true);
      expect(found?.secretMatches('')).toBe(false);
    });

    it('registers a disabled client when asked', async () => {
      const body = await create(buildClient({ enabled: false }));
      expect(body.enabled).toBe(false);
      expect(await t.get(ClientsService).findEnabled(body.client_id)).toBeNull();
    });

    it('stores the secret only as its SHA-256: the clear secret is nowhere in the clients table', async () => {
      const body = await create();
      const table = await clientsTableText();
      expect(table).not.toContain(body.client_secret);
      const [row] = await sql<{ secret_hash: string }>(
        t.dataSource,
        `SELECT secret_hash FROM clients WHERE client_id = $1`,
        [body.client_id],
      );
      expect(row.secret_hash).toBe(createHash('sha256').update(body.client_secret).digest('hex'));
    });

    it('records client.created with the admin as actor and no secret', async () => {
      const body = await create();
      const event = audit.events.find((e) => e.type === 'client.created' && e.subject === body.client_id);
      expect(event).toMatchObject({ outcome: 'success', clientId: admin.clientId });
      expect(event?.details).toMatchObject({ actor: admin.clientId });
      expect(JSON.stringify(event)).not.toContain(body.client_secret);
    });

    const tooLong = 'https://a.example/' + 'x'.repeat(2000);
    const badBodies: Array<[string, Record<string, unknown>, string]> = [
      ['client_name missing', { redirect_uris: ['https://a.example/cb'] }, 'client_name'],
      ['client_name empty', buildClient({ client_name: '' }), 'client_name'],
      ['client_name blank', buildClient({ client_name: '   ' }), 'client_name'],
      ['client_name too long', buildClient({ client_name: 'n'.repeat(201) }), 'client_name'],
      ['client_name a number', buildClient({ client_name: 42 }), 'client_name'],
      ['client_name null', buildClient({ client_name: null }), 'client_name'],
      ['client_name with a control character', buildClient({ client_name: 'a\u0000b' }), 'client_name'],
      ['redirect_uris a string', buildClient({ redirect_uris: 'https://a.example/cb' }), 'redirect_uris'],
      ['redirect_uris null', buildClient({ redirect_uris: null }), 'redirect_uris'],
      ['redirect_uris with a number', buildClient({ redirect_uris: [1] }), 'redirect_uris'],
      ['redirect_uris relative', buildClient({ redirect_uris: ['/callback'] }), 'redirect_uris'],
      [
        'redirect_uris with a fragment',
        buildClient({ redirect_uris: ['https://a.example/cb#x'] }),
        'redirect_uris',
      ],
      ['redirect_uris plain http', buildClient({ redirect_uris: ['http://a.example/cb'] }), 'redirect_uris'],
      [
        'redirect_uris localhost',
        buildClient({ redirect_uris: ['http://localhost:8080/cb'] }),
        'redirect_uris',
      ],
      [
        'redirect_uris https localhost',
        buildClient({ redirect_uris: ['https://localhost/cb'] }),
        'redirect_uris',
      ],
      ['redirect_uris javascript:', buildClient({ redirect_uris: ['javascript:alert(1)'] }), 'redirect_uris'],
      ['redirect_uris data:', buildClient({ redirect_uris: ['data:text/html,hi'] }), 'redirect_uris'],
      [
        'redirect_uris with credentials',
        buildClient({ redirect_uris: ['https://u:p@a.example/'] }),
        'redirect_uris',
      ],
      [
        'redirect_uris with spaces',
        buildClient({ redirect_uris: ['https://a.example/c b'] }),
        'redirect_uris',
      ],
      [
        'redirect_uris duplicated',
        buildClient({ redirect_uris: ['https://a.example/', 'https://a.example/'] }),
        'redirect_uris',
      ],
      ['redirect_uris too long', buildClient({ redirect_uris: [tooLong] }), 'redirect_uris'],
      [
        'redirect_uris too many',
        buildClient({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) }),
        'redirect_uris',
      ],
      ['redirect_uris missing with authorization_code', buildClient({ redirect_uris: [] }), 'redirect_uris'],
      ['grant_types unknown', buildClient({ grant_types: ['password'] }), 'grant_types'],
      ['grant_types implicit', buildClient({ grant_types: ['implicit'] }), 'grant_types'],
      ['grant_types empty', buildClient({ grant_types: [] }), 'grant_types'],
      ['grant_types a string', buildClient({ grant_types: 'authorization_code' }), 'grant_types'],
      [
        'grant_types duplicated',
        buildClient({ grant_types: ['authorization_code', 'authorization_code'] }),
        'grant_types',
      ],
      [
        'refresh_token without authorization_code',
        buildClient({ grant_types: ['refresh_token'] }),
        'grant_types',
      ],
      [
        'client_credentials for a public client',
        buildClient({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }),
        'grant_types',
      ],
      [
        'token_endpoint_auth_method unknown',
        buildClient({ token_endpoint_auth_method: 'private_key_jwt' }),
        'token_endpoint_auth_method',
      ],
      [
        'token_endpoint_auth_method a list',
        buildClient({ token_endpoint_auth_method: ['none'] }),
        'token_endpoint_auth_method',
      ],
      ['scope unknown', buildClient({ scope: 'api:read api:delete' }), 'scope'],
      ['scope a list', buildClient({ scope: ['api:read'] }), 'scope'],
      ['scope with double spaces', buildClient({ scope: 'api:read  api:write' }), 'scope'],
      ['scope repeated', buildClient({ scope: 'api:read api:read' }), 'scope'],
      ['scope with a quote', buildClient({ scope: 'api:"read' }), 'scope'],
      ['scope oversize', buildClient({ scope: 'a'.repeat(1001) }), 'scope'],
      ['require_consent a string', buildClient({ require_consent: 'true' }), 'require_consent'],
      ['enabled a number', buildClient({ enabled: 1 }), 'enabled'],
      ['an unknown field', buildClient({ client_secret: 'chosen-by-me' }), 'client_secret'],
      ['a client_id chosen by the caller', buildClient({ client_id: 'my-id' }), 'client_id'],
      ['an object where a string belongs', buildClient({ client_name: { $gt: '' } }), 'client_name'],
      ['built-in scope on an authorization_code client', buildClient({ scope: 'clients:read' }), 'scope'],
      [
        'built-in scope on a public client',
        {
          client_name: 'x',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['https://a.example/cb'],
          scope: 'clients:read',
        },
        'scope',
      ],
      [
        'built-in scope the caller does not hold',
        { client_name: 'x', grant_types: ['client_credentials'], scope: 'audit:read' },
        'scope',
      ],
    ];

    it.each(badBodies)('400 naming the field: %s', async (_name, body, field) => {
      const res = await as(admin.token).post('/admin/clients', body).expect(400);
      expect(res.body.statusCode).toBe(400);
      expect(Object.keys(res.body.fields)).toContain(field);
      expect(res.body.message.join(' ')).toContain(field);
    });

    it('reports every bad field at once', async () => {
      const res = await as(admin.token)
        .post('/admin/clients', {
          client_name: '',
          redirect_uris: ['http://x.example'],
          grant_types: ['nope'],
        })
        .expect(400);
      expect(Object.keys(res.body.fields).sort()).toEqual(['client_name', 'grant_types', 'redirect_uris']);
    });

    it('lets a caller hand out the built-in scopes it holds, to a confidential client_credentials client', async () => {
      const body = await create({
        client_name: 'Provisioning job',
        grant_types: ['client_credentials'],
        scope: 'clients:read api:read',
      });
      expect(body.scope).toBe('clients:read api:read');
      expect(body.redirect_uris).toEqual([]);
    });

    it('refuses malformed JSON, a JSON array, a JSON string and an oversize body without a 500', async () => {
      const raw = (payload: string) =>
        api()
          .post('/admin/clients')
          .set('Authorization', `Bearer ${admin.token}`)
          .set('Content-Type', 'application/json')
          .send(payload);
      expect((await raw('{"client_name": ')).status).toBe(400);
      const array = await raw('[{"client_name":"x"}]').expect(400);
      expect(Object.keys(array.body.fields)).toEqual(['body']);
      expect((await raw('"x"')).status).toBe(400);
      expect((await raw('null')).status).toBe(400);
      expect((await raw(JSON.stringify(buildClient({ client_name: 'x'.repeat(100_000) })))).status).toBe(413);
    });

    it('answers 415 to a body that is not JSON', async () => {
      for (const [type, payload] of [
        ['application/x-www-form-urlencoded', 'client_name=x'],
        ['text/plain', '{"client_name":"x"}'],
      ]) {
        const res = await api()
          .post('/admin/clients')
          .set('Authorization', `Bearer ${admin.token}`)
          .set('Content-Type', type)
          .send(payload);
        expect(res.status).toBe(415);
      }
    });

    it('treats a request without a body as an empty object (client_name is required)', async () => {
      const res = await api()
        .post('/admin/clients')
        .set('Authorization', `Bearer ${admin.token}`)
        .expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['client_name']);
      expect(res.body.message).toContain('client_name is required');
    });
  });

  describe('GET /admin/clients (cursor pagination)', () => {
    it('walks every client exactly once, oldest first, with an opaque cursor', async () => {
      for (let i = 0; i < 7; i++) await create(buildClient({ client_name: `page ${i}` }));
      const [{ count }] = await sql<{ count: number }>(
        t.dataSource,
        `SELECT count(*)::int AS count FROM clients`,
      );
      expect(count).toBeGreaterThan(3 * 3);
      const seen: Array<{ client_id: string; created_at: string }> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await as(reader.token)
          .get(`/admin/clients?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
          .expect(200);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items);
        cursor = res.body.next_cursor;
        if (cursor !== null) {
          expect(typeof cursor).toBe('string');
          expect(res.body.items).toHaveLength(3);
        }
        pages++;
      } while (cursor && pages < 100);
      expect(seen).toHaveLength(count);
      expect(new Set(seen.map((c) => c.client_id)).size).toBe(count);
      const times = seen.map((c) => Date.parse(c.created_at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
    });

    it('pages correctly through clients created in the same microsecond', async () => {
      const stamp = '2020-01-01T00:00:00.123456Z';
      for (const suffix of ['a', 'b', 'c', 'd']) {
        const { clientId } = await registerClient(t);
        await sql(t.dataSource, `UPDATE clients SET created_at = $1, client_id = $2 WHERE client_id = $3`, [
          stamp,
          `lk_same_${suffix}`,
          clientId,
        ]);
      }
      const first = await as(reader.token).get('/admin/clients?limit=2').expect(200);
      expect(first.body.items.map((c: any) => c.client_id)).toEqual(['lk_same_a', 'lk_same_b']);
      const second = await as(reader.token)
        .get(`/admin/clients?limit=2&cursor=${first.body.next_cursor}`)
        .expect(200);
      expect(second.body.items.map((c: any) => c.client_id)).toEqual(['lk_same_c', 'lk_same_d']);
    });

    it('returns at most 50 by default and null next_cursor on the last page', async () => {
      const res = await as(reader.token).get('/admin/clients').expect(200);
      const [{ count }] = await sql<{ count: number }>(
        t.dataSource,
        `SELECT count(*)::int AS count FROM clients`,
      );
      expect(res.body.items).toHaveLength(Math.min(count, 50));
      expect(res.body.next_cursor).toBe(count > 50 ? expect.any(String) : null);
      const all = await as(reader.token).get('/admin/clients?limit=200').expect(200);
      expect(all.body.items).toHaveLength(count);
      expect(all.body.next_cursor).toBeNull();
    });

    it('never shows a secret or a hash in the list', async () => {
      const created = await create();
      const res = await as(reader.token).get('/admin/clients?limit=200').expect(200);
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(created.client_secret);
      expect(text).not.toContain(createHash('sha256').update(created.client_secret).digest('hex'));
      for (const item of res.body.items) for (const f of SECRET_FIELDS) expect(item).not.toHaveProperty(f);
    });

    it.each([
      ['0', 'limit'],
      ['201', 'limit'],
      ['-1', 'limit'],
      ['abc', 'limit'],
      ['1.5', 'limit'],
      ['', 'limit'],
    ])('limit=%s → 400 naming limit', async (limit, field) => {
      const res = await as(reader.token).get(`/admin/clients?limit=${limit}`).expect(400);
      expect(Object.keys(res.body.fields)).toEqual([field]);
    });

    it('a repeated limit → 400 naming limit', async () => {
      const res = await as(reader.token).get('/admin/clients?limit=2&limit=3').expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['limit']);
    });

    it.each([
      ['junk', 'not base64 JSON'],
      ['e30', 'an empty object'],
      [
        Buffer.from('{"t":"2026-02-31T00:00:00.000000Z","i":"lk_x"}').toString('base64url'),
        'an impossible date',
      ],
      [Buffer.from('{"t":"yesterday","i":"lk_x"}').toString('base64url'), 'a non-timestamp'],
      [Buffer.from('[1,2]').toString('base64url'), 'an array'],
      ['a'.repeat(600), 'oversize'],
    ])('cursor=%s (%s) → 400 naming cursor', async (cursor) => {
      const res = await as(reader.token).get(`/admin/clients?cursor=${cursor}`).expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['cursor']);
    });

    it('an unknown query parameter → 400 naming it', async () => {
      const res = await as(reader.token).get('/admin/clients?offset=10').expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['offset']);
    });
  });

  describe('GET /admin/clients/:client_id', () => {
    it('returns the client without any secret material', async () => {
      const created = await create();
      const res = await as(reader.token).get(`/admin/clients/${created.client_id}`).expect(200);
      const { client_secret: _secret, ...expected } = created;
      expect(res.body).toEqual(expected);
      for (const f of SECRET_FIELDS) expect(res.body).not.toHaveProperty(f);
      expect(JSON.stringify(res.body)).not.toContain(created.client_secret);
    });

    it.each(['lk_doesnotexist', 'x'.repeat(65), '%00', encodeURIComponent('é'), 'a%20b'])(
      '404 for %s',
      async (id) => {
        const res = await as(reader.token).get(`/admin/clients/${id}`).expect(404);
        expect(res.body.statusCode).toBe(404);
      },
    );
  });

  describe('DPoP and PAR client fields (issue 16)', () => {
    it('registers, reads and changes dpop_bound_access_tokens and require_pushed_authorization_requests', async () => {
      const created = await create(
        buildClient({ dpop_bound_access_tokens: true, require_pushed_authorization_requests: true }),
      );
      expect(created).toMatchObject({
        dpop_bound_access_tokens: true,
        require_pushed_authorization_requests: true,
      });
      const read = await as(reader.token).get(`/admin/clients/${created.client_id}`).expect(200);
      expect(read.body).toMatchObject({
        dpop_bound_access_tokens: true,
        require_pushed_authorization_requests: true,
      });
      const patched = await as(admin.token)
        .patch(`/admin/clients/${created.client_id}`, { dpop_bound_access_tokens: false })
        .expect(200);
      expect(patched.body).toMatchObject({
        dpop_bound_access_tokens: false,
        require_pushed_authorization_requests: true,
      });
      const row = await t.get(ClientsService).findEnabled(created.client_id, { fresh: true });
      expect(row).toMatchObject({ dpopBoundAccessTokens: false, requirePushedAuthorizationRequests: true });
    });

    it.each(['dpop_bound_access_tokens', 'require_pushed_authorization_requests'])(
      'refuses a %s that is not a boolean (400 naming the field)',
      async (field) => {
        const res = await as(admin.token)
          .post('/admin/clients', buildClient({ [field]: 'yes' }))
          .expect(400);
        expect(Object.keys(res.body.fields)).toEqual([field]);
      },
    );
  });

  describe('PATCH /admin/clients/:client_id', () => {
    it('updates only the fields sent and records which ones changed', async () => {
      const created = await create();
      await new Promise((r) => setTimeout(r, 5));
      const res = await as(admin.token)
        .patch(`/admin/clients/${created.client_id}`, { client_name: 'Renamed', require_consent: true })
        .expect(200);
      expect(res.body).toMatchObject({
        client_name: 'Renamed',
        require_consent: true,
        redirect_uris: created.redirect_uris,
        scope: created.scope,
        created_at: created.created_at,
      });
      expect(res.body).not.toHaveProperty('client_secret');
      expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
      const event = audit.events.find((e) => e.type === 'client.updated' && e.subject === created.client_id);
      expect(event?.details).toEqual({ actor: admin.clientId, changed: ['client_name', 'require_consent'] });
      const read = await as(reader.token).get(`/admin/clients/${created.client_id}`).expect(200);
      expect(read.body.client_name).toBe('Renamed');
      // the secret is unchanged
      expect(await secretMatches(created.client_id, created.client_secret)).toBe(true);
    });

    it('switches between client_secret_basic and client_secret_post', async () => {
      const created = await create();
      const res = await as(admin.token)
        .patch(`/admin/clients/${created.client_id}`, { token_endpoint_auth_method: 'client_secret_post' })
        .expect(200);
      expect(res.body.token_endpoint_auth_method).toBe('client_secret_post');
    });

    it('re-validates the combined client, not just the fields sent', async () => {
      const confidential = await create();
      const pub = await create(buildClient({ token_endpoint_auth_method: 'none' }));
      const cases: Array<[string, Record<string, unknown>, string]> = [
        [confidential.client_id, { redirect_uris: [] }, 'redirect_uris'],
        [confidential.client_id, { grant_types: ['refresh_token'] }, 'grant_types'],
        [pub.client_id, { grant_types: ['authorization_code', 'client_credentials'] }, 'grant_types'],
        [confidential.client_id, { scope: 'clients:read' }, 'scope'],
        [confidential.client_id, { token_endpoint_auth_method: 'none' }, 'token_endpoint_auth_method'],
        [pub.client_id, { token_endpoint_auth_method: 'client_secret_basic' }, 'token_endpoint_auth_method'],
      ];
      for (const [id, body, field] of cases) {
        const res = await as(admin.token).patch(`/admin/clients/${id}`, body).expect(400);
        expect(Object.keys(res.body.fields)).toContain(field);
      }
      const after = await as(reader.token).get(`/admin/clients/${confidential.client_id}`).expect(200);
      expect(after.body.redirect_uris).toEqual(confidential.redirect_uris);
    });

    it.each([
      [{ client_name: null }, 'client_name'],
      [{ enabled: 'false' }, 'enabled'],
      [{ client_secret: 'mine' }, 'client_secret'],
      [{ client_id: 'lk_other' }, 'client_id'],
      [{ created_at: '2020-01-01T00:00:00Z' }, 'created_at'],
      [{ redirect_uris: ['https://a.example/#frag'] }, 'redirect_uris'],
      [{ scope: null }, 'scope'],
    ])('400 naming the field for %j', async (body, field) => {
      const created = await create();
      const res = await as(admin.token).patch(`/admin/clients/${created.client_id}`, body).expect(400);
      expect(Object.keys(res.body.fields)).toContain(field);
    });

    it('accepts an empty patch as a no-op', async () => {
      const created = await create();
      const res = await as(admin.token).patch(`/admin/clients/${created.client_id}`, {}).expect(200);
      expect(res.body.updated_at).toBe(created.updated_at);
    });

    it('404 for an unknown client', async () => {
      await as(admin.token).patch('/admin/clients/lk_nope', { client_name: 'x' }).expect(404);
    });

    it('refuses to add a built-in scope the caller lacks, but keeps ones the client already has', async () => {
      const { clientId } = await registerClient(t, {
        client_name: 'Auditor',
        grant_types: ['client_credentials'],
        scope: 'audit:read',
      });
      const add = await as(admin.token)
        .patch(`/admin/clients/${clientId}`, { scope: 'audit:read clients:read' })
        .expect(200);
      expect(add.body.scope).toBe('audit:read clients:read');
      const other = await create({
        client_name: 'svc',
        grant_types: ['client_credentials'],
        scope: 'clients:read',
      });
      const res = await as(admin.token)
        .patch(`/admin/clients/${other.client_id}`, { scope: 'clients:read audit:read' })
        .expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['scope']);
      await as(admin.token).patch(`/admin/clients/${clientId}`, { client_name: 'Auditor 2' }).expect(200);
    });

    it('disabling a client revokes its live grants: its tokens stop working at once', async () => {
      const victim = await adminCaller(t, 'clients:read');
      await as(victim.token).get('/admin/clients').expect(200);
      await as(admin.token).patch(`/admin/clients/${victim.clientId}`, { enabled: false }).expect(200);
      await as(victim.token).get('/admin/clients').expect(401);
      expect(await t.get(AccessTokenVerifier).verify(victim.token)).toBeNull();
      const [grant] = await sql<{ revoked_at: Date | null; revoke_cause: string | null }>(
        t.dataSource,
        `SELECT revoked_at, revoke_cause FROM grants WHERE id = $1`,
        [victim.grantId],
      );
      expect(grant.revoked_at).not.toBeNull();
      expect(grant.revoke_cause).toBe('admin');
      const revoked = audit.events.find(
        (e) => e.type === 'grant.revoked' && (e.details as any)?.grant_id === victim.grantId,
      );
      expect(revoked?.details).toMatchObject({ cause: 'admin' });
      // re-enabling does not bring the revoked grant back
      await as(admin.token).patch(`/admin/clients/${victim.clientId}`, { enabled: true }).expect(200);
      await as(victim.token).get('/admin/clients').expect(401);
    });

    it('removing a scope from a client revokes its grants (tokens carry the old scope)', async () => {
      const victim = await adminCaller(t, 'clients:read api:read');
      await as(victim.token).get('/admin/clients').expect(200);
      await as(admin.token).patch(`/admin/clients/${victim.clientId}`, { scope: 'clients:read' }).expect(200);
      await as(victim.token).get('/admin/clients').expect(401);
    });
  });

  describe('DELETE /admin/clients/:client_id', () => {
    it('deletes the client and revokes its grants and tokens in one go', async () => {
      const victim = await adminCaller(t, 'clients:read');
      const [user] = await sql<{ id: string }>(
        t.dataSource,
        `INSERT INTO users (username, username_normalized, password_hash) VALUES ('del', 'del', 'x') RETURNING id`,
      );
      const userGrant = await insertGrant(t, victim.clientId, 'api:read', 'authorization_code', user.id);
      await as(victim.token).get('/admin/clients').expect(200);

      const res = await as(admin.token).delete(`/admin/clients/${victim.clientId}`).expect(204);
      expect(res.text).toBe('');
      await as(reader.token).get(`/admin/clients/${victim.clientId}`).expect(404);
      await as(victim.token).get('/admin/clients').expect(401);
      expect(await t.get(AccessTokenVerifier).verify(victim.token)).toBeNull();
      expect(await t.get(ClientsService).findEnabled(victim.clientId)).toBeNull();
      const [{ count }] = await sql<{ count: number }>(
        t.dataSource,
        `SELECT count(*)::int AS count FROM grants WHERE client_id = $1 AND revoked_at IS NULL`,
        [victim.clientId],
      );
      expect(count).toBe(0);

      const revoked = audit.events.filter(
        (e) => e.type === 'grant.revoked' && e.clientId === victim.clientId,
      );
      expect(revoked.map((e) => (e.details as any).grant_id).sort()).toEqual(
        [victim.grantId, userGrant].sort(),
      );
      expect(revoked.every((e) => (e.details as any).cause === 'client_deleted')).toBe(true);
      expect(revoked.find((e) => (e.details as any).grant_id === userGrant)?.subject).toBe(user.id);
      const deleted = audit.events.find((e) => e.type === 'client.deleted' && e.subject === victim.clientId);
      expect(deleted?.details).toEqual({ actor: admin.clientId });
    });

    it('404 for an unknown or already deleted client', async () => {
      const created = await create();
      await as(admin.token).delete(`/admin/clients/${created.client_id}`).expect(204);
      await as(admin.token).delete(`/admin/clients/${created.client_id}`).expect(404);
      await as(admin.token).delete('/admin/clients/lk_never').expect(404);
    });
  });

  describe('POST /admin/clients/:client_id/secret (rotation without overlap)', () => {
    it('returns a new secret once; the old one stops working at once', async () => {
      const created = await create();
      const res = await as(admin.token).post(`/admin/clients/${created.client_id}/secret`).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body)).toEqual(['client_secret']);
      expect(res.body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(res.body.client_secret).not.toBe(created.client_secret);
      secretsSeen.push(res.body.client_secret);
      expect(await secretMatches(created.client_id, res.body.client_secret)).toBe(true);
      expect(await secretMatches(created.client_id, created.client_secret)).toBe(false);
      expect(await clientsTableText()).not.toContain(res.body.client_secret);
      const event = audit.events.find(
        (e) => e.type === 'client.secret_rotated' && e.subject === created.client_id,
      );
      expect(event?.details).toMatchObject({ actor: admin.clientId });
      expect(JSON.stringify(event)).not.toContain(res.body.client_secret);
      const read = await as(reader.token).get(`/admin/clients/${created.client_id}`).expect(200);
      expect(JSON.stringify(read.body)).not.toContain(res.body.client_secret);
    });

    it('concurrent rotations leave exactly one valid secret', async () => {
      const created = await create();
      const results = await Promise.all(
        Array.from({ length: 6 }, () => as(admin.token).post(`/admin/clients/${created.client_id}/secret`)),
      );
      for (const r of results) expect(r.status).toBe(200);
      const secrets = results.map((r) => r.body.client_secret as string);
      secretsSeen.push(...secrets);
      expect(new Set(secrets).size).toBe(6);
      const valid = [];
      for (const s of [...secrets, created.client_secret])
        if (await secretMatches(created.client_id, s)) valid.push(s);
      expect(valid).toHaveLength(1);
    });

    it('400 for a public client, 404 for an unknown one', async () => {
      const pub = await create(buildClient({ token_endpoint_auth_method: 'none' }));
      const res = await as(admin.token).post(`/admin/clients/${pub.client_id}/secret`).expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['token_endpoint_auth_method']);
      await as(admin.token).post('/admin/clients/lk_never/secret').expect(404);
    });

    it('refuses to rotate the secret of a client holding built-in scopes the caller lacks', async () => {
      const { clientId, secret } = await registerClient(t, {
        client_name: 'Auditor',
        grant_types: ['client_credentials'],
        scope: 'audit:read',
      });
      const res = await as(admin.token).post(`/admin/clients/${clientId}/secret`).expect(403);
      expect(res.body.error).toBe('insufficient_scope');
      expect(await secretMatches(clientId, secret!)).toBe(true);
    });

    it('accepts an empty JSON body', async () => {
      const created = await create();
      await as(admin.token).post(`/admin/clients/${created.client_id}/secret`, {}).expect(200);
    });
  });

  describe('the audit trail', () => {
    it('has every registry change persisted, and no secret anywhere in the database', async () => {
      const rows = await sql<{ type: string; n: number }>(
        t.dataSource,
        `SELECT type, count(*)::int AS n FROM audit_events WHERE type LIKE 'client.%' OR type = 'grant.revoked' GROUP BY type`,
      );
      const counts = Object.fromEntries(rows.map((r) => [r.type, r.n]));
      for (const type of [
        'client.created',
        'client.updated',
        'client.deleted',
        'client.secret_rotated',
        'grant.revoked',
      ])
        expect(counts[type]).toBeGreaterThan(0);
      expect(secretsSeen.length).toBeGreaterThan(20);
      const dump = (
        await sql<{ row: string }>(
          t.dataSource,
          `SELECT a::text AS row FROM audit_events a UNION ALL SELECT c::text FROM clients c`,
        )
      )
        .map((r) => r.row)
        .join('\n');
      for (const secret of secretsSeen) expect(dump).not.toContain(secret);
    });
  });

  describe('OpenAPI', () => {
    it('documents every admin endpoint with request and response examples at /docs', async () => {
      const res = await api().get('/docs-json').expect(200);
      const paths = res.body.paths;
      expect(Object.keys(paths['/admin/clients']).sort()).toEqual(['get', 'post']);
      expect(Object.keys(paths['/admin/clients/{client_id}']).sort()).toEqual(['delete', 'get', 'patch']);
      expect(Object.keys(paths['/admin/clients/{client_id}/secret'])).toEqual(['post']);
      const post = paths['/admin/clients'].post;
      expect(post.requestBody.content['application/json'].examples.web.value.client_name).toBeDefined();
      expect(post.responses['201'].content['application/json'].example.client_secret).toBeDefined();
      expect(res.body.components.schemas.CreateClientDto.properties.client_name.example).toBeDefined();
      await api().get('/docs').expect(200);
    });
  });
});
