import request from 'supertest';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { ADMIN_SCOPES, buildClient } from '../factories/clients';
import { createTestApp, TestApp } from '../helpers/test-app';

/** The documented admin workflow, end to end through the real token endpoint (docs/readme/clients.md). */
describe('admin workflow: CLI bootstrap → client_credentials token → admin API', () => {
  let t: TestApp;
  let adminId: string;
  let adminSecret: string;

  beforeAll(async () => {
    t = await createTestApp();
    const admin = await t.get(CliOperations).execute('client:create', {
      name: 'admin',
      redirectUris: [],
      grantTypes: ['client_credentials'],
      scope: ADMIN_SCOPES,
    });
    adminId = admin.client_id as string;
    adminSecret = admin.client_secret as string;
  });
  afterAll(() => t.close());

  const tokenFor = (id: string, secret: string, scope: string) =>
    request(t.url)
      .post('/oauth/token')
      .auth(id, secret)
      .type('form')
      .send({ grant_type: 'client_credentials', scope });

  it('runs create, list, read, patch, rotate and delete with tokens from this server', async () => {
    const tokenRes = await tokenFor(adminId, adminSecret, 'clients:read clients:write').expect(200);
    const token = tokenRes.body.access_token as string;
    const auth = { Authorization: `Bearer ${token}` };

    const created = await request(t.url)
      .post('/admin/clients')
      .set(auth)
      .send(buildClient({ grant_types: ['client_credentials'], redirect_uris: [], scope: 'clients:read' }))
      .expect(201);
    const { client_id: id, client_secret: secret } = created.body;

    const list = await request(t.url).get('/admin/clients?limit=1').set(auth).expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.next_cursor).toEqual(expect.any(String));
    await request(t.url).get(`/admin/clients/${id}`).set(auth).expect(200);
    await request(t.url).patch(`/admin/clients/${id}`).set(auth).send({ client_name: 'renamed' }).expect(200);

    // the new client can get a token with its secret; after rotation only the new secret works
    await tokenFor(id, secret, 'clients:read').expect(200);
    const rotated = await request(t.url).post(`/admin/clients/${id}/secret`).set(auth).expect(200);
    const refused = await tokenFor(id, secret, 'clients:read').expect(401);
    expect(refused.body.error).toBe('invalid_client');
    const own = await tokenFor(id, rotated.body.client_secret, 'clients:read').expect(200);
    await request(t.url)
      .get('/admin/clients')
      .set('Authorization', `Bearer ${own.body.access_token}`)
      .expect(200);

    // deleting it revokes the token it holds, and it can no longer authenticate
    await request(t.url).delete(`/admin/clients/${id}`).set(auth).expect(204);
    await request(t.url)
      .get('/admin/clients')
      .set('Authorization', `Bearer ${own.body.access_token}`)
      .expect(401);
    await tokenFor(id, rotated.body.client_secret, 'clients:read').expect(401);
  });

  it('answers 403 insufficient_scope to a token asked for clients:read only', async () => {
    const tokenRes = await tokenFor(adminId, adminSecret, 'clients:read').expect(200);
    const res = await request(t.url)
      .post('/admin/clients')
      .set('Authorization', `Bearer ${tokenRes.body.access_token}`)
      .send(buildClient())
      .expect(403);
    expect(res.body.error).toBe('insufficient_scope');
  });

  it('disabling a client makes its tokens and its secret useless at once', async () => {
    const token = (await tokenFor(adminId, adminSecret, 'clients:read clients:write').expect(200)).body
      .access_token;
    const created = await request(t.url)
      .post('/admin/clients')
      .set('Authorization', `Bearer ${token}`)
      .send({ client_name: 'svc', grant_types: ['client_credentials'], scope: 'clients:read' })
      .expect(201);
    const svcToken = (
      await tokenFor(created.body.client_id, created.body.client_secret, 'clients:read').expect(200)
    ).body.access_token;
    await request(t.url)
      .patch(`/admin/clients/${created.body.client_id}`)
      .set('Authorization', `Bearer ${token}`)
      .send({ enabled: false })
      .expect(200);
    await request(t.url).get('/admin/clients').set('Authorization', `Bearer ${svcToken}`).expect(401);
    await tokenFor(created.body.client_id, created.body.client_secret, 'clients:read').expect(401);
  });
});
