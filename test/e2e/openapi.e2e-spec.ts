import request from 'supertest';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Routes that are pages for people, not API: documented in the README and docs/, not in OpenAPI. */
const BROWSER_PAGES = [
  '/login',
  '/logout',
  '/consent',
  '/favicon.ico',
  '/audit',
  '/audit/callback',
  '/audit/sign-out',
];
const isBrowserPage = (path: string) => BROWSER_PAGES.includes(path) || path.startsWith('/audit/console');

/** Every method + path the running Fastify instance routes (its printRoutes tree, flattened). */
export function routesOf(t: TestApp): Array<{ method: string; path: string }> {
  const fastify = (
    t.app.getHttpAdapter() as { getInstance(): { printRoutes(o: object): string } }
  ).getInstance();
  const tree = fastify.printRoutes({ commonPrefix: false });
  const out: Array<{ method: string; path: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.replace(/\u00a0/g, ' '));
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    const path = stack.join('').replace(/\/+/g, '/');
    for (const method of (m[3] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean))
      out.push({ method, path: path.replace(/:([A-Za-z_]+)/g, '{$1}') });
  }
  return out;
}

describe('OpenAPI at /docs', () => {
  let t: TestApp;
  let doc: any;
  beforeAll(async () => {
    t = await createTestApp();
    doc = (await request(t.url).get('/docs-json').expect(200)).body;
  });
  afterAll(() => t.close());

  it("is under the project's name and version", () => {
    expect(doc.info.title).toBe('Latchkey');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.servers).toEqual([{ url: t.url }]);
  });

  it('documents every route of the app except the pages for people, and no OPTIONS preflight', () => {
    const routes = routesOf(t).filter(
      (r) => !['HEAD', 'OPTIONS'].includes(r.method) && !r.path.startsWith('/docs') && !isBrowserPage(r.path),
    );
    expect(routes.length).toBeGreaterThan(15);
    const missing = routes.filter((r) => !doc.paths[r.path]?.[r.method.toLowerCase()]);
    expect(missing).toEqual([]);
    for (const item of Object.values<any>(doc.paths)) expect(item.options).toBeUndefined();
  });

  it('describes the OAuth form endpoints with their parameters and error responses', () => {
    const token = doc.paths['/oauth/token'].post;
    const form = token.requestBody.content['application/x-www-form-urlencoded'].schema;
    expect(Object.keys(form.properties)).toEqual(
      expect.arrayContaining([
        'grant_type',
        'code',
        'redirect_uri',
        'code_verifier',
        'refresh_token',
        'client_id',
      ]),
    );
    expect(Object.keys(token.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429', '503']));
    expect(token.responses['400'].content['application/json'].schema.properties.error.enum).toContain(
      'invalid_grant',
    );
    for (const path of ['/oauth/revoke', '/oauth/introspect'])
      expect(
        doc.paths[path].post.requestBody.content['application/x-www-form-urlencoded'].schema.required,
      ).toEqual(['token']);
    const authorize = doc.paths['/oauth/authorize'].get.parameters.map((p: any) => p.name);
    expect(authorize).toEqual(
      expect.arrayContaining([
        'client_id',
        'redirect_uri',
        'code_challenge',
        'code_challenge_method',
        'state',
      ]),
    );
    for (const path of [
      '/oauth/jwks',
      '/.well-known/oauth-authorization-server',
      '/health/live',
      '/health/ready',
    ])
      expect(doc.paths[path].get).toBeDefined();
  });

  it('offers a client_credentials flow against this token endpoint for the admin and audit APIs', async () => {
    const scheme = doc.components.securitySchemes.client_credentials;
    expect(scheme.flows.clientCredentials.tokenUrl).toBe(`${t.url}/oauth/token`);
    expect(Object.keys(scheme.flows.clientCredentials.scopes)).toEqual(
      expect.arrayContaining(['clients:read', 'audit:read']),
    );
    expect(doc.paths['/admin/clients'].get.security).toEqual([{ client_credentials: [] }, { bearer: [] }]);
    expect(doc.paths['/audit/events'].get.security).toEqual([{ client_credentials: [] }, { bearer: [] }]);
    const ui = await request(t.url).get('/docs/').redirects(1).expect(200);
    expect(ui.text).toContain('<title>Latchkey API</title>');
  });
});

describe('DOCS=off', () => {
  it('serves no /docs', async () => {
    const t = await createTestApp({ DOCS: 'off' });
    try {
      await request(t.url).get('/docs').expect(404);
      await request(t.url).get('/docs-json').expect(404);
      expect((await request(t.url).get('/').expect(200)).text).not.toContain('href="/docs"');
    } finally {
      await t.close();
    }
  });
});
