import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';

describe('health', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('answers live while the process runs', async () => {
    const res = await request(t.url).get('/health/live').expect(200);
    expect(res.body.status).toBe('ok');
  });

  it('answers ready when the database answers and a signing key is loaded', async () => {
    const res = await request(t.url).get('/health/ready').expect(200);
    expect(res.body.details.database.status).toBe('up');
    expect(res.body.details.signing_key.status).toBe('up');
  });

  it('publishes the signing key in the JWKS without private members', async () => {
    const res = await request(t.url).get('/oauth/jwks').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(res.body.keys[0].d).toBeUndefined();
  });

  it('answers unknown routes with a JSON 404 carrying the request id', async () => {
    const res = await request(t.url).get('/nope').set('X-Request-Id', 'req-123').expect(404);
    expect(res.body.request_id).toBe('req-123');
    expect(res.headers['x-request-id']).toBe('req-123');
  });
});
