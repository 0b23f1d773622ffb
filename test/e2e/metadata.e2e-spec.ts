import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/test-app';

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SCOPES: 'api:read api:write profile' });
  });
  afterAll(() => t.close());

  it('publishes exactly the contract’s fields', async () => {
    const res = await request(t.url).get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      issuer: t.url,
      authorization_endpoint: `${t.url}/oauth/authorize`,
      token_endpoint: `${t.url}/oauth/token`,
      revocation_endpoint: `${t.url}/oauth/revoke`,
      introspection_endpoint: `${t.url}/oauth/introspect`,
      jwks_uri: `${t.url}/oauth/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: [
        'api:read',
        'api:write',
        'profile',
        'openid',
        'email',
        'clients:read',
        'clients:write',
        'audit:read',
        'users:read',
        'users:write',
        'metrics:read',
      ],
      authorization_response_iss_parameter_supported: true,
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      pushed_authorization_request_endpoint: `${t.url}/oauth/par`,
      require_pushed_authorization_requests: false,
    });
  });

  it('says whether pushed authorization requests are required (REQUIRE_PAR)', async () => {
    const strict = await createTestApp({ REQUIRE_PAR: 'on' });
    try {
      const res = await request(strict.url).get('/.well-known/oauth-authorization-server').expect(200);
      expect(res.body.require_pushed_authorization_requests).toBe(true);
    } finally {
      await strict.close();
    }
  });

  it('answers CORS requests from any origin', async () => {
    const res = await request(t.url)
      .get('/.well-known/oauth-authorization-server')
      .set('Origin', 'https://anywhere.example')
      .expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const preflight = await request(t.url)
      .options('/.well-known/oauth-authorization-server')
      .set('Origin', 'https://anywhere.example')
      .set('Access-Control-Request-Method', 'GET')
      .expect(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
  });

  it('names endpoints that exist', async () => {
    const jwks = await request(t.url).get('/oauth/jwks').expect(200);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      const res = await request(t.url).post(path).type('form').send({});
      expect(res.status).not.toBe(404);
    }
  });
});
