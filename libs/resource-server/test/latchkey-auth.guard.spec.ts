import { Controller, Get, Module, Post } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  AccessToken,
  type AccessDeniedEvent,
  LatchkeyResourceServerModule,
  Scopes,
  type VerifiedAccessToken,
} from '@latchkey/resource-server';
import { DpopKey, FakeIssuer } from './fake-issuer';

@Controller('api')
class InvoicesController {
  @Get('invoices')
  @Scopes('api:read')
  list(@AccessToken() token: VerifiedAccessToken) {
    return { sub: token.subject, client_id: token.clientId };
  }

  @Post('invoices')
  @Scopes('api:read', 'api:write')
  create() {
    return { created: true };
  }

  @Get('public')
  open() {
    return { ok: true };
  }
}

/** The guard in a real Nest (Fastify) app over real HTTP: status codes, RFC 6750 / RFC 9449 challenges, bodies. */
describe('@Scopes() guard over HTTP', () => {
  let issuer: FakeIssuer;
  let app: NestFastifyApplication;
  let base: string;
  const denied: AccessDeniedEvent[] = [];

  beforeAll(async () => {
    issuer = await FakeIssuer.start();
    @Module({
      imports: [
        LatchkeyResourceServerModule.forRoot({
          issuer: issuer.url,
          audience: 'https://api.example',
          onAccessDenied: (e) => {
            denied.push(e);
          },
        }),
      ],
      controllers: [InvoicesController],
    })
    class ApiModule {}
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    base = base.replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await issuer.close();
  });

  it('lets a token with the scope through and hands the route the verified token', async () => {
    const res = await fetch(`${base}/api/invoices`, {
      headers: { authorization: `Bearer ${await issuer.token()}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: '3f1e2a4c-9b7d-4e21-8c55-0a1b2c3d4e5f', client_id: 'web-app' });
  });

  it('answers 401 with a bare challenge when no token is sent', async () => {
    const res = await fetch(`${base}/api/invoices`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer, DPoP algs="ES256 EdDSA RS256 PS256"');
  });

  it('answers 401 invalid_token with the reason for a bad token', async () => {
    const res = await fetch(`${base}/api/invoices`, {
      headers: { authorization: `Bearer ${await issuer.token({ aud: 'https://other.example' })}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer error="invalid_token", error_description="[^"]*aud/,
    );
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  it('answers 403 insufficient_scope naming the needed scopes', async () => {
    const res = await fetch(`${base}/api/invoices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await issuer.token({ scope: 'api:read' })}` },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain(
      'Bearer error="insufficient_scope", error_description="the access token lacks the scope api:write", scope="api:read api:write"',
    );
    expect(await res.json()).toEqual({
      error: 'insufficient_scope',
      error_description: 'the access token lacks the scope api:write',
    });
  });

  it('answers a DPoP problem with a DPoP challenge, and accepts a proper proof', async () => {
    const key = await DpopKey.generate();
    const token = await issuer.token({ cnf: { jkt: key.jkt } });
    const asBearer = await fetch(`${base}/api/invoices`, { headers: { authorization: `Bearer ${token}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_token"/);
    const proof = await key.proof('POST', `${base}/api/invoices`, token);
    const badProof = await fetch(`${base}/api/invoices`, {
      headers: { authorization: `DPoP ${token}`, dpop: proof },
    });
    expect(badProof.status).toBe(401);
    expect(badProof.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_dpop_proof"/);
    const ok = await fetch(`${base}/api/invoices`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: await key.proof('GET', `${base}/api/invoices`, token),
      },
    });
    expect(ok.status).toBe(200);
  });

  it('reports every refusal in the api.access_denied vocabulary, without the token', async () => {
    denied.length = 0;
    const token = await issuer.token({ scope: 'api:read' });
    await fetch(`${base}/api/invoices?x=1`);
    await fetch(`${base}/api/invoices`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    await fetch(`${base}/api/invoices`, { headers: { authorization: `Bearer ${token}x` } });
    expect(
      denied.map((e) => [e.type, e.outcome, e.details.reason, e.details.method, e.details.path]),
    ).toEqual([
      ['api.access_denied', 'failure', 'missing_token', 'GET', '/api/invoices'],
      ['api.access_denied', 'failure', 'insufficient_scope', 'POST', '/api/invoices'],
      ['api.access_denied', 'failure', 'invalid_token', 'GET', '/api/invoices'],
    ]);
    expect(JSON.stringify(denied)).not.toContain(token.split('.')[2]);
  });

  it('leaves routes without @Scopes() alone', async () => {
    expect((await fetch(`${base}/api/public`)).status).toBe(200);
  });
});
