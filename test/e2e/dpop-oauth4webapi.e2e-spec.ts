import { calculateJwkThumbprint, exportJWK } from 'jose';
import * as oauth from 'oauth4webapi';
import {
  CookieJar,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  requestIdOf,
  type TestUser,
} from '../factories/authorize';
import { introspect, introspectionClient, jwtClaims, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

/**
 * panva's oauth4webapi as the real client of the FAPI 2.0 building blocks: PAR (pushedAuthorizationRequest) +
 * PKCE + DPoP (DPoP(), generateKeyPair) through the code exchange, the refresh, and an admin API call with a
 * DPoP-bound client_credentials token (protectedResourceRequest). Its own checks of the responses apply.
 */
describe('oauth4webapi: PAR + PKCE + DPoP end to end', () => {
  const insecure = { [oauth.allowInsecureRequests]: true };
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

  async function browse(url: URL): Promise<URL> {
    const jar = new CookieJar();
    let res = await getWithJar(t, jar, url.pathname + url.search);
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

  it('discovers DPoP and PAR in the metadata', () => {
    expect(as.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'RS256', 'PS256']);
    expect(as.pushed_authorization_request_endpoint).toBe(`${t.url}/oauth/par`);
  });

  it('runs a public client through PAR, the code exchange and the refresh, every token bound to its key', async () => {
    const spa = await createClient(t, { authMethod: 'none', redirectUris: ['https://spa.example/cb'] });
    const client: oauth.Client = { client_id: spa.clientId };
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP(client, keyPair);
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();

    const par = await oauth.processPushedAuthorizationResponse(
      as,
      client,
      await oauth.pushedAuthorizationRequest(
        as,
        client,
        oauth.None(),
        {
          redirect_uri: spa.redirectUri,
          response_type: 'code',
          scope: 'api:read',
          state,
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        { DPoP: dpop, ...insecure },
      ),
    );
    expect(par.expires_in).toBe(60);

    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', spa.clientId);
    url.searchParams.set('request_uri', par.request_uri);
    const params = oauth.validateAuthResponse(as, client, await browse(url), state);

    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, spa.redirectUri, verifier, {
        DPoP: dpop,
        ...insecure,
      }),
    );
    expect(tokens.token_type).toBe('dpop');
    const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey), 'sha256');
    const cnf = jwtClaims(tokens.access_token).cnf;
    expect(cnf).toEqual({ jkt });
    const info = await introspect(t, resourceServer, tokens.access_token).expect(200);
    expect(info.body).toMatchObject({ active: true, token_type: 'DPoP', cnf });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, {
        DPoP: dpop,
        ...insecure,
      }),
    );
    expect(refreshed.token_type).toBe('dpop');
    expect(jwtClaims(refreshed.access_token).cnf).toEqual(cnf);

    // the refresh token is bound: the same client library with another key is refused
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, {
          DPoP: thief,
          ...insecure,
        }),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('serves userinfo for a DPoP-bound openid token only with a proof of its key (RFC 9449 §7)', async () => {
    const spa = await createClient(t, {
      authMethod: 'none',
      redirectUris: ['https://spa.example/cb'],
      scope: 'openid profile api:read',
    });
    const client: oauth.Client = { client_id: spa.clientId, id_token_signed_response_alg: 'ES256' };
    const keyPair = await oauth.generateKeyPair('ES256');
    const dpop = oauth.DPoP(client, keyPair);
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const state = oauth.generateRandomState();
    const par = await oauth.processPushedAuthorizationResponse(
      as,
      client,
      await oauth.pushedAuthorizationRequest(
        as,
        client,
        oauth.None(),
        {
          redirect_uri: spa.redirectUri,
          response_type: 'code',
          scope: 'openid profile',
          state,
          nonce,
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        { DPoP: dpop, ...insecure },
      ),
    );
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('client_id', spa.clientId);
    url.searchParams.set('request_uri', par.request_uri);
    const params = oauth.validateAuthResponse(as, client, await browse(url), state);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, spa.redirectUri, verifier, {
        DPoP: dpop,
        ...insecure,
      }),
      { expectedNonce: nonce },
    );
    const sub = oauth.getValidatedIdTokenClaims(tokens)!.sub;
    const oidc = { ...as, userinfo_endpoint: `${t.url}/oauth/userinfo` };

    const info = await oauth.processUserInfoResponse(
      oidc,
      client,
      sub,
      await oauth.userInfoRequest(oidc, client, tokens.access_token, { DPoP: dpop, ...insecure }),
    );
    expect(info.sub).toBe(sub);

    // the bound token as a plain bearer token: refused, with a DPoP challenge
    const asBearer = await fetch(`${t.url}/oauth/userinfo`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP /);

    // a proof of another key: invalid_dpop_proof
    const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
    const stolen = await oauth.userInfoRequest(oidc, client, tokens.access_token, {
      DPoP: thief,
      ...insecure,
    });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_dpop_proof"/);
  });

  it('calls the admin API with a DPoP-bound client_credentials token', async () => {
    const admin = await createClient(t, {
      grantTypes: ['client_credentials'],
      scope: 'clients:read',
      redirectUris: [],
    });
    const client: oauth.Client = { client_id: admin.clientId };
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('EdDSA'));
    const tokens = await oauth.processClientCredentialsResponse(
      as,
      client,
      await oauth.clientCredentialsGrantRequest(
        as,
        client,
        oauth.ClientSecretBasic(admin.clientSecret!),
        {},
        {
          DPoP: dpop,
          ...insecure,
        },
      ),
    );
    expect(tokens.token_type).toBe('dpop');
    const res = await oauth.protectedResourceRequest(
      tokens.access_token,
      'GET',
      new URL(`${t.url}/admin/clients?limit=1`),
      undefined,
      undefined,
      { DPoP: dpop, ...insecure },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);

    // the same token as Bearer is refused (401 with a challenge, which oauth4webapi raises)
    await expect(
      oauth.protectedResourceRequest(
        tokens.access_token,
        'GET',
        new URL(`${t.url}/admin/clients?limit=1`),
        undefined,
        undefined,
        insecure,
      ),
    ).rejects.toMatchObject({ status: 401 });
  });
});
