import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import {
  hash,
  InMemoryClientStore,
  LatchkeyCallbackError,
  LatchkeyClientService,
  type LatchkeyClientStore,
} from '@latchkey/pkce-client';

/**
 * OpenID Connect in the client (Latchkey's id_token support is being built in parallel, so a stand-in serves
 * OpenID discovery, a JWKS and a token endpoint over real HTTP): with `openid` in the scope the client sends a
 * nonce, requires an ID token, and checks its signature, iss, aud, exp and nonce; sign-out passes id_token_hint.
 */
describe('LatchkeyClientService with openid', () => {
  let server: Server;
  let issuer: string;
  let signingKey: { kid: string; privateKey: CryptoKey };
  let idTokenClaims: JWTPayload | undefined;
  let idTokenKey: CryptoKey | undefined;
  let service: LatchkeyClientService;
  let store: LatchkeyClientStore;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    signingKey = { kid: 'k1', privateKey };
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      const json = (body: unknown) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/.well-known/openid-configuration') {
        return json({
          issuer,
          authorization_endpoint: `${issuer}/oauth/authorize`,
          token_endpoint: `${issuer}/oauth/token`,
          jwks_uri: `${issuer}/oauth/jwks`,
          end_session_endpoint: `${issuer}/oauth/logout`,
          authorization_response_iss_parameter_supported: true,
          id_token_signing_alg_values_supported: ['ES256'],
        });
      }
      if (req.url === '/oauth/jwks') return json({ keys: [jwk] });
      if (req.url === '/oauth/token') {
        req.resume();
        req.on('end', async () => {
          const now = Math.floor(Date.now() / 1000);
          const idToken = idTokenClaims
            ? await new SignJWT({
                iss: issuer,
                sub: 'user-1',
                aud: 'web-app',
                iat: now,
                exp: now + 3600,
                auth_time: now,
                ...idTokenClaims,
              })
                .setProtectedHeader({ alg: 'ES256', kid: signingKey.kid, typ: 'JWT' })
                .sign(idTokenKey ?? signingKey.privateKey)
            : undefined;
          json({
            access_token: `at-${randomUUID()}`,
            token_type: 'Bearer',
            expires_in: 900,
            scope: 'openid api:read',
            refresh_token: `rt-${randomUUID()}`,
            ...(idToken ? { id_token: idToken } : {}),
          });
        });
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  beforeEach(() => {
    store = new InMemoryClientStore();
    service = new LatchkeyClientService(
      {
        issuer,
        clientId: 'web-app',
        clientSecret: 'secret',
        redirectUri: 'https://app.example/auth/callback',
        scope: 'openid api:read',
        postLogoutRedirectUri: 'https://app.example/',
      },
      store,
    );
    idTokenClaims = undefined;
    idTokenKey = undefined;
  });

  async function signIn(claims: (nonce: string) => JWTPayload | undefined) {
    const sessionId = service.newSessionId();
    const url = await service.startSignIn(sessionId);
    const nonce = url.searchParams.get('nonce')!;
    idTokenClaims = claims(nonce);
    const callback = new URL('https://app.example/auth/callback');
    callback.searchParams.set('code', 'the-code');
    callback.searchParams.set('state', url.searchParams.get('state')!);
    callback.searchParams.set('iss', issuer);
    return { nonce, result: service.completeSignIn(sessionId, callback) };
  }

  it('sends a nonce and accepts an ID token that carries it; sign-out passes id_token_hint', async () => {
    const { nonce, result } = await signIn((n) => ({ nonce: n }));
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { sessionId } = await result;
    const tokens = await store.getSession(hash(sessionId));
    expect(tokens?.idToken).toEqual(expect.any(String));
    const logout = await service.signOut(sessionId);
    expect(`${logout.origin}${logout.pathname}`).toBe(`${issuer}/oauth/logout`);
    expect(logout.searchParams.get('id_token_hint')).toBe(tokens!.idToken);
    expect(logout.searchParams.get('post_logout_redirect_uri')).toBe('https://app.example/');
  });

  async function refusedWith(result: Promise<unknown>): Promise<LatchkeyCallbackError> {
    const e = await result.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(LatchkeyCallbackError);
    return e as LatchkeyCallbackError;
  }

  it('refuses an ID token with another nonce (a replayed or injected ID token)', async () => {
    const { result } = await signIn(() => ({ nonce: 'someone-elses-nonce' }));
    expect((await refusedWith(result)).error).toBe('invalid_grant');
  });

  it('refuses a token response without an ID token', async () => {
    const { result } = await signIn(() => undefined);
    expect((await refusedWith(result)).error).toBe('invalid_grant');
  });

  it('refuses an ID token for another client (aud) or from another issuer', async () => {
    expect((await refusedWith((await signIn((n) => ({ nonce: n, aud: 'other-app' }))).result)).error).toBe(
      'invalid_grant',
    );
    expect(
      (await refusedWith((await signIn((n) => ({ nonce: n, iss: 'https://evil.example' }))).result)).error,
    ).toBe('invalid_grant');
  });

  it('refuses an ID token not signed by the issuer (signature checked against the JWKS)', async () => {
    idTokenKey = (await generateKeyPair('ES256')).privateKey;
    const { result } = await signIn((n) => ({ nonce: n }));
    const e = await refusedWith(result);
    expect(e.error).toBe('invalid_grant');
  });
});
