import { jest } from '@jest/globals';
import fc from 'fast-check';
import { adminCaller, createClient, type TestClient } from '../factories/clients';
import { dpopKey, dpopProof } from '../factories/dpop';
import { basicAuth } from '../factories/tokens';
import { createTestApp, TestApp } from '../helpers/test-app';

jest.setTimeout(180_000);

/**
 * Issue 8 §3: property-based fuzzing of every endpoint over real HTTP. Whatever arrives (arbitrary query
 * strings, form and JSON bodies, headers, repeated parameters, huge values, odd encodings) the answer is
 * never a 5xx, never a hang, and always has the endpoint's error shape.
 */
describe('fuzzing every endpoint', () => {
  let t: TestApp;
  let admin: string;
  let confidential: TestClient;
  let publicClient: TestClient;
  let boundToken: string; // a DPoP-bound client_credentials token (the proofs fuzzed below never match its key)
  const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

  beforeAll(async () => {
    t = await createTestApp({
      RATE_LIMIT_TOKEN: '100000000',
      RATE_LIMIT_AUTHORIZE: '100000000',
      BODY_LIMIT: '16kb',
    });
    admin = (await adminCaller(t, 'clients:read clients:write audit:read')).token;
    confidential = await createClient(t, {
      grantTypes: ['client_credentials', 'authorization_code'],
      scope: 'api:read',
    });
    publicClient = await createClient(t, { authMethod: 'none', redirectUris: ['http://127.0.0.1:9999/cb'] });
    const bound = await fetch(`${t.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(confidential.clientId, confidential.clientSecret!),
        'content-type': 'application/x-www-form-urlencoded',
        dpop: await dpopProof(await dpopKey(), `${t.url}/oauth/token`),
      },
      body: 'grant_type=client_credentials',
    });
    boundToken = ((await bound.json()) as { access_token: string }).access_token;
  });
  afterAll(() => t.close());

  // --- generators -----------------------------------------------------------------------------------------
  const PARAM_NAMES = [
    'client_id',
    'redirect_uri',
    'response_type',
    'scope',
    'state',
    'code_challenge',
    'code_challenge_method',
    'grant_type',
    'code',
    'code_verifier',
    'refresh_token',
    'token',
    'token_type_hint',
    'client_secret',
    'username',
    'password',
    '_csrf',
    'request',
    'decision',
    'limit',
    'cursor',
    'from',
    'to',
    'type',
    'outcome',
    'ip',
    'format',
    'client_name',
    'redirect_uris',
    'grant_types',
    'enabled',
  ];
  const oddString = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      '',
      ' ',
      '%',
      '%zz',
      '%00',
      '\u0000',
      '\ud800',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      "' OR 1=1 --",
      'S256',
      'plain',
      'code',
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'none',
      'http://127.0.0.1:9999/cb',
      'https://evil.example/cb',
      'api:read',
      'clients:write',
      '-1',
      '0',
      '1e309',
      'null',
      'true',
      '[]',
      '{}',
      '2026-13-45T99:99:99Z',
    ),
    fc.nat({ max: 6_000 }).map((n) => 'x'.repeat(n)),
    fc.constant('y'.repeat(12_000)),
  );
  const knownValue = fc.oneof(
    oddString,
    fc.constant(''),
    fc.constant('__CLIENT__'),
    fc.constant('__PUBLIC__'),
  );
  const pairs = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAM_NAMES), oddString), knownValue), {
    maxLength: 12,
  });

  const substitute = (v: string) =>
    v === '__CLIENT__' ? confidential.clientId : v === '__PUBLIC__' ? publicClient.clientId : v;
  const enc = (x: string) => encodeURIComponent((x as string & { toWellFormed(): string }).toWellFormed());
  /** Raw encoding with occasional broken escapes; repeated parameters come for free. */
  const encode = (ps: Array<[string, string]>, raw: boolean) =>
    ps.map(([k, v]) => (raw ? `${k}=${substitute(v)}` : `${enc(k)}=${enc(substitute(v))}`)).join('&');

  const headerValue = fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s));
  const b64 = (v: unknown) =>
    Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
  /** DPoP header values: junk, and compact JWS shapes with odd headers, claims and signatures (RFC 9449 §4.2). */
  const dpopHeader = fc.oneof(
    headerValue,
    fc
      .tuple(
        fc.record(
          {
            typ: fc.oneof(fc.constant('dpop+jwt'), oddString),
            alg: fc.constantFrom('ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256', 'none', 'HS256', ''),
            jwk: fc.oneof(
              fc.jsonValue({ maxDepth: 2 }),
              fc.record({
                kty: fc.constantFrom('EC', 'OKP', 'RSA', 'oct', 'x'),
                crv: oddString,
                x: oddString,
              }),
            ),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.record(
            {
              htm: oddString,
              htu: oddString,
              iat: fc.oneof(fc.integer(), fc.double(), oddString),
              jti: oddString,
              ath: oddString,
              nonce: oddString,
            },
            { requiredKeys: [] },
          ),
        ),
        fc.oneof(fc.constant(''), fc.constant('AAAA'), oddString.map(b64)),
      )
      .map(([h, c, sig]) => `${b64(h)}.${b64(c)}.${sig}`)
      // within Node's header size limit (beyond it Node answers 431 before the app sees the request)
      .filter((v) => v.length < 4000),
  );
  const headers = fc.record(
    {
      dpop: dpopHeader,
      authorization: fc.oneof(
        headerValue,
        fc.constant('Basic'),
        fc.constant('Basic !!!'),
        fc.constant('Basic ' + Buffer.from(':').toString('base64')),
        fc
          .tuple(oddString, oddString)
          .map(([a, b]) => 'Basic ' + Buffer.from(`${a}:${b}`).toString('base64')),
        fc.constant('Bearer'),
        headerValue.map((h) => `Bearer ${h}`),
        headerValue.map((h) => `DPoP ${h}`),
      ),
      cookie: headerValue,
      'x-forwarded-for': headerValue,
      'x-request-id': headerValue,
      accept: fc.constantFrom('text/html', 'application/json', 'text/csv', '*/*', '', 'garbage/!!'),
    },
    { requiredKeys: [] },
  );
  const contentType = fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'application/x-www-form-urlencoded; charset=latin1',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
    '',
  );
  const jsonBody = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc
      .dictionary(fc.constantFrom(...PARAM_NAMES), fc.jsonValue({ maxDepth: 2 }))
      .map((o) => JSON.stringify(o)),
    fc.constantFrom('{', '[]', 'null', '"x"', '{"client_name":' + '"a"'.repeat(10) + '}'),
  );

  async function send(method: string, path: string, h: Record<string, string>, body?: string, type?: string) {
    const init: RequestInit = {
      method,
      headers: { ...h },
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    };
    if (body !== undefined && method !== 'GET') {
      init.body = body;
      if (type) (init.headers as Record<string, string>)['content-type'] = type;
    }
    const res = await fetch(t.url + path, init);
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, headers: res.headers };
  }

  function expectJsonError(r: { status: number; type: string; text: string }, field: 'error' | 'message') {
    expect(r.status).toBeLessThan(500);
    if (r.status >= 400 && r.status !== 431) {
      expect(r.type).toContain('application/json');
      expect(JSON.parse(r.text)).toHaveProperty(field);
    }
  }

  it.each(['/oauth/token', '/oauth/revoke', '/oauth/introspect', '/oauth/par'])(
    'POST %s answers RFC 6749 error JSON, never a 5xx',
    async (path) => {
      await fc.assert(
        fc.asyncProperty(
          pairs,
          headers,
          contentType,
          fc.boolean(),
          jsonBody,
          async (ps, h, type, raw, json) => {
            const body = type === 'application/json' ? json : encode(ps, raw);
            const r = await send('POST', path, h, body, type);
            expect(r.status).toBeLessThan(500);
            if (r.status >= 400 && r.status !== 431) {
              expect({ status: r.status, type: r.type, body: r.text.slice(0, 200) }).toMatchObject({
                type: expect.stringContaining('application/json'),
              });
              expect(typeof JSON.parse(r.text).error).toBe('string');
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
  );

  it.each(['client_credentials', 'authorization_code', 'refresh_token'])(
    'POST /oauth/token (%s) with any DPoP header from an authenticated client is never a 5xx',
    async (grantType) => {
      await fc.assert(
        fc.asyncProperty(dpopHeader, fc.array(dpopHeader, { maxLength: 2 }), async (proof, more) => {
          const form = new URLSearchParams({
            grant_type: grantType,
            code: 'x',
            code_verifier: 'v'.repeat(43),
          });
          form.set('redirect_uri', 'https://app.example/callback');
          form.set('refresh_token', 'r'.repeat(43));
          const h: Record<string, string> = {
            authorization: basicAuth(confidential.clientId, confidential.clientSecret!),
            dpop: [proof, ...more].join(', '),
          };
          const r = await send(
            'POST',
            '/oauth/token',
            h,
            form.toString(),
            'application/x-www-form-urlencoded',
          );
          expect(r.status).toBeLessThan(500);
          // 200 only when no DPoP header arrived at all (an empty value): then the token is not bound
          if (r.status === 200) expect(JSON.parse(r.text).token_type).toBe('Bearer');
          else expect(typeof JSON.parse(r.text).error).toBe('string');
        }),
        { numRuns: RUNS },
      );
    },
  );

  it('GET /admin/clients with Authorization: DPoP and any DPoP header is 401 JSON, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(dpopHeader, async (proof) => {
        const r = await send('GET', '/admin/clients', { authorization: `DPoP ${boundToken}`, dpop: proof });
        expect(r.status).toBe(401);
        expect(typeof JSON.parse(r.text).error).toBe('string');
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /oauth/authorize answers a redirect or an HTML page, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(pairs, headers, fc.boolean(), async (ps, h, raw) => {
        const r = await send('GET', `/oauth/authorize?${encode(ps, raw)}`, h);
        expect(r.status).toBeLessThan(500);
        if (r.status === 431) return; // Node's HTTP parser refuses an over-long request line
        if (r.status === 302) expect(r.headers.get('location')).toBeTruthy();
        else expect(r.type).toContain('text/html');
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    ['GET', '/login'],
    ['POST', '/login'],
    ['GET', '/consent'],
    ['POST', '/consent'],
    ['POST', '/logout'],
  ])('%s %s answers a page or a redirect, never a 5xx', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(pairs, headers, contentType, fc.boolean(), async (ps, h, type, raw) => {
        const query = method === 'GET' ? `?${encode(ps, raw)}` : '';
        const r = await send(method, path + query, h, encode(ps, raw), type);
        expect(r.status).toBeLessThan(500);
        if (r.status === 431 || r.status === 413) return;
        if (r.status !== 302 && r.status !== 303 && r.status !== 204) expect(r.type).toContain('text/html');
      }),
      { numRuns: RUNS },
    );
  });

  it.each([
    ['POST', '/admin/clients'],
    ['PATCH', '/admin/clients/__CLIENT__'],
    ['GET', '/admin/clients'],
    ['POST', '/admin/clients/__CLIENT__/secret'],
  ])('%s %s answers 4xx JSON naming the problem, never a 5xx', async (method, rawPath) => {
    await fc.assert(
      fc.asyncProperty(jsonBody, pairs, fc.boolean(), async (json, ps, raw) => {
        const path = rawPath.replace('__CLIENT__', encodeURIComponent(confidential.clientId));
        const query = method === 'GET' ? `?${encode(ps, raw)}` : '';
        const r = await send(
          method,
          path + query,
          { authorization: `Bearer ${admin}` },
          json,
          'application/json',
        );
        expectJsonError(r, 'message');
      }),
      { numRuns: RUNS },
    );
  });

  it.each(['/audit/events', '/audit/reports/security'])(
    'GET %s answers 4xx JSON naming the field, never a 5xx',
    async (path) => {
      await fc.assert(
        fc.asyncProperty(pairs, fc.boolean(), async (ps, raw) => {
          const r = await send('GET', `${path}?${encode(ps, raw)}`, { authorization: `Bearer ${admin}` });
          expectJsonError(r, 'message');
        }),
        { numRuns: RUNS },
      );
    },
  );

  it.each(['/admin/clients', '/audit/events'])(
    'GET %s without a valid bearer token is 401 JSON with WWW-Authenticate',
    async (path) => {
      await fc.assert(
        fc.asyncProperty(headers, async (h) => {
          const r = await send('GET', path, {
            ...h,
            authorization: h.authorization?.startsWith('Bearer') ? h.authorization : 'Bearer x',
          });
          expect(r.status).toBe(401);
          expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }),
        { numRuns: Math.ceil(RUNS / 2) },
      );
    },
  );

  it('refuses bodies over the size limit with 413 and an error JSON', async () => {
    const big = 'token=' + 'a'.repeat(64 * 1024);
    const r = await send('POST', '/oauth/token', {}, big, 'application/x-www-form-urlencoded');
    expect(r.status).toBe(413);
    expect(JSON.parse(r.text).error).toBe('invalid_request');
    const j = await send(
      'POST',
      '/admin/clients',
      { authorization: `Bearer ${admin}` },
      JSON.stringify({ client_name: 'x'.repeat(64 * 1024) }),
      'application/json',
    );
    expect(j.status).toBe(413);
  });

  it('serves metadata, JWKS and health whatever the query and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        pairs,
        headers,
        fc.constantFrom(
          '/.well-known/oauth-authorization-server',
          '/oauth/jwks',
          '/health/live',
          '/health/ready',
        ),
        async (ps, h, path) => {
          const r = await send('GET', `${path}?${encode(ps, false)}`, h);
          if (r.status === 431) return; // over-long request line: refused by Node's HTTP parser
          expect(r.status).toBe(200);
          expect(() => JSON.parse(r.text)).not.toThrow();
        },
      ),
      { numRuns: RUNS },
    );
  });
});
