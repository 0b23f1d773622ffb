import request from 'supertest';
import { insertGrant, mintAccessToken, registerClient } from '../factories/clients';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Issue 13, finding 5: the admin and audit APIs accept only tokens meant for them (RFC 9068 §4: `aud`). */
describe('bearer tokens on the admin API: the audience', () => {
  let t: TestApp;
  let caller: { clientId: string; grantId: string };
  const scope = 'clients:read';
  beforeAll(async () => {
    t = await createTestApp();
    const { clientId } = await registerClient(t, {
      client_name: 'aud test',
      grant_types: ['client_credentials'],
      scope,
    });
    caller = { clientId, grantId: await insertGrant(t, clientId, scope) };
  });
  afterAll(() => t.close());

  const list = (token: string) =>
    request(t.url).get('/admin/clients').set('Authorization', `Bearer ${token}`);

  it('accepts a token whose aud is this server (the issuer), alone or among others', async () => {
    await list(mintAccessToken(t, { ...caller, scope })).expect(200);
    await list(mintAccessToken(t, { ...caller, scope }, { aud: ['https://api.example', t.url] })).expect(200);
  });

  it('refuses a token signed here but meant for another audience (a resource server)', async () => {
    const res = await list(mintAccessToken(t, { ...caller, scope }, { aud: 'https://api.example' }));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
