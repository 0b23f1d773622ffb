import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import {
  CookieJar,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  requestIdOf,
} from '../factories/authorize';
import { createUser, type TestUser } from '../factories/users';
import { introspectionClient, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/**
 * A real, independent client library — panva's oauth4webapi — runs the whole flow against the running server:
 * discovery, authorization URL with PKCE, code exchange, refresh, introspection and revocation. The access
 * token is verified with jose against the JWKS (and with oauth4webapi's own RFC 9068 validation).
 */
describe('oauth4webapi against Latchkey', () => {
  const insecure = { [oauth.allowInsecureRequests]: true }; // the test server speaks http on 127.0.0.1
  let t: TestApp;
  let as: oauth.AuthorizationServer;
  let user: TestUser;
  let resourceServer: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    user = await createUser(t);
    resourceServer = await introspectionClient(t);
    const issuer = new URL(t.url);
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }),
    );
  });
  afterAll(() => t.close());

  /** The browser: follows the authorization URL through login and consent to the redirect back. */
  async function browse(authorizationUrl: URL): Promise<URL> {
    const jar = new CookieJar();
    let res = await getWithJar(t, jar, authorizationUrl.pathname + authorizationUrl.search);
    let location = res.headers.location as string;
    if (location.startsWith('/login')) {
      res = await login(t, jar, user, requestIdOf(location));
      location = res.headers.location as string;
    }
    if (location.startsWith('/consent')) {
      const requestId = requestIdOf(location);
      res = await getWithJar(t, jar, location);
      res = await postFormWithJar(t, jar, '/consent', {
        _csrf: csrfTokenOf(res.text),
        request: requestId,
        decision: 'approve',
      });
      location = res.headers.location as string;
    }
    expect(res.status).toBe(302);
    return new URL(location);
  }

  async function authorize(client: TestClient, scope: string) {
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('redirect_uri', client.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', scope);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    const callback = await browse(url);
    // checks state and the RFC 9207 iss parameter
    const params = oauth.validateAuthResponse(as, { client_id: client.clientId }, callback, state);
    return { params, codeVerifier };
  }

  it('discovers the server', () => {
    expect(as).toMatchObject({
      issuer: t.url,
      token_endpoint: `${t.url}/oauth/token`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  it('runs the confidential-client flow: code + PKCE, JWT checks, refresh, introspection, revocation', async () => {
    const web = await createClient(t, {
      redirectUris: ['https://web.example/callback'],
      secret: 'a secret: with+odd%chars',
    });
    const client: oauth.Client = { client_id: web.clientId };
    const auth = oauth.ClientSecretBasic(web.clientSecret!);
    const rsAuth = oauth.ClientSecretBasic(resourceServer.clientSecret!);
    const rs: oauth.Client = { client_id: resourceServer.clientId };

    const { params, codeVerifier } = await authorize(web, 'api:read api:write');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        web.redirectUri,
        codeVerifier,
        insecure,
      ),
    );
    expect(tokens).toMatchObject({ token_type: 'bearer', expires_in: 900, scope: 'api:read api:write' });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // the access token, verified by jose against the JWKS
    const jwks = createRemoteJWKSet(new URL(as.jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: t.url,
      audience: t.url,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader).toMatchObject({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    expect(payload).toMatchObject({ sub: user.id, client_id: web.clientId, scope: 'api:read api:write' });

    // ...and by oauth4webapi's RFC 9068 resource-server validation
    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request(`${t.url}/api`, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      t.url,
      insecure,
    );
    expect(claims.sub).toBe(user.id);

    // refresh (rotation)
    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    // introspection by a resource server
    const introspected = await oauth.processIntrospectionResponse(
      as,
      rs,
      await oauth.introspectionRequest(as, rs, rsAuth, refreshed.access_token, insecure),
    );
    expect(introspected).toMatchObject({
      active: true,
      client_id: web.clientId,
      sub: user.id,
      token_type: 'Bearer',
    });

    // revocation of the refresh token revokes the grant
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, refreshed.refresh_token!, insecure),
    );
    for (const token of [refreshed.access_token, refreshed.refresh_token!]) {
      const after = await oauth.processIntrospectionResponse(
        as,
        rs,
        await oauth.introspectionRequest(as, rs, rsAuth, token, insecure),
      );
      expect(after.active).toBe(false);
    }
    // and the library sees the refusal of the revoked refresh token as an OAuth error
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth, refreshed.refresh_token!, insecure),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('runs the public-client flow (client_id only, PKCE) and revokes an access token', async () => {
    const spa = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['http://127.0.0.1:5173/callback'],
    });
    const client: oauth.Client = { client_id: spa.clientId, token_endpoint_auth_method: 'none' };
    const { params, codeVerifier } = await authorize(spa, 'api:read');
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        params,
        spa.redirectUri,
        codeVerifier,
        insecure,
      ),
    );
    expect(tokens.scope).toBe('api:read');
    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), tokens.access_token, {
        ...insecure,
        additionalParameters: { token_type_hint: 'access_token' },
      }),
    );
    const rs: oauth.Client = { client_id: resourceServer.clientId };
    const after = await oauth.processIntrospectionResponse(
      as,
      rs,
      await oauth.introspectionRequest(
        as,
        rs,
        oauth.ClientSecretBasic(resourceServer.clientSecret!),
        tokens.access_token,
        insecure,
      ),
    );
    expect(after.active).toBe(false);
    // the refresh token of that grant still works (only the access token was revoked)
    await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure),
    );
  });

  it('gets a client_credentials token', async () => {
    const rs: oauth.Client = { client_id: resourceServer.clientId };
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      rs,
      oauth.ClientSecretBasic(resourceServer.clientSecret!),
      new URLSearchParams({ scope: 'api:read' }),
      insecure,
    );
    const tokens = await oauth.processClientCredentialsResponse(as, rs, response);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'api:read' });
    expect(tokens.refresh_token).toBeUndefined();
  });
});
