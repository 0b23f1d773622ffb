import type { HttpRequest } from '../../../src/http/http';
import { sha256Base64url, verifyPkceS256 } from '../../../src/common/crypto';
import { OAuthError } from '../../../src/common/oauth-errors';
import { originOf } from '../../../src/http/cors';
import { isWellFormedVerifier } from '../../../src/tokens/grants/authorization-code.grant';
import { isSubset } from '../../../src/tokens/grants/token-grant';
import { authorizationServerMetadata } from '../../../src/tokens/metadata.controller';
import { sentClientId } from '../../../src/http/sent-client-id';
import { parseScope, readForm } from '../../../src/tokens/oauth-request';
import { looksLikeJwt, looksLikeRefreshToken, lookupOrder } from '../../../src/tokens/token-shapes';

function fakeRequest(body: unknown, form = true, headers: Record<string, string> = {}): HttpRequest {
  return {
    body,
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
  } as never;
}

function errorOf(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error('expected an OAuthError');
}

describe('PKCE S256 (RFC 7636)', () => {
  it('verifies the Appendix B example', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    expect(isWellFormedVerifier(verifier)).toBe(true);
    expect(sha256Base64url(verifier)).toBe(challenge);
    expect(verifyPkceS256(verifier, challenge)).toBe(true);
    expect(verifyPkceS256(verifier.replace('d', 'e'), challenge)).toBe(false);
    expect(verifyPkceS256(verifier, challenge.slice(1))).toBe(false);
  });

  it('accepts verifiers of 43 to 128 unreserved characters only (§4.1)', () => {
    expect(isWellFormedVerifier('a'.repeat(43))).toBe(true);
    expect(isWellFormedVerifier('A-Z.a_z~09'.repeat(4) + 'abc')).toBe(true);
    expect(isWellFormedVerifier('a'.repeat(128))).toBe(true);
    expect(isWellFormedVerifier('a'.repeat(42))).toBe(false);
    expect(isWellFormedVerifier('a'.repeat(129))).toBe(false);
    for (const bad of ['+', '/', '=', ' ', '%', 'é'])
      expect(isWellFormedVerifier('a'.repeat(42) + bad)).toBe(false);
  });
});

describe('readForm', () => {
  it('returns the parameters, treating empty values as absent (RFC 6749 §3.1)', () => {
    const params = readForm(fakeRequest({ grant_type: 'x', scope: '' }));
    expect(params.grant_type).toBe('x');
    expect(params.scope).toBeUndefined();
  });

  it('refuses repeated parameters and non-form bodies with invalid_request', () => {
    expect(errorOf(() => readForm(fakeRequest({ code: ['a', 'b'] }))).code).toBe('invalid_request');
    expect(errorOf(() => readForm(fakeRequest({ code: 'a' }, false))).code).toBe('invalid_request');
    expect(errorOf(() => readForm(fakeRequest({ code: { nested: 'x' } }))).code).toBe('invalid_request');
  });

  it('keeps attacker-chosen parameter names short and printable in the description', () => {
    const err = errorOf(() => readForm(fakeRequest({ ['\u0000'.repeat(100)]: ['a', 'b'] })));
    expect(err.description).toBe(`parameter ${'?'.repeat(40)} is repeated`);
  });
});

describe('parseScope', () => {
  it('splits on spaces and removes duplicates', () => {
    expect(parseScope('a b  a')).toEqual(['a', 'b']);
    expect(parseScope(undefined)).toBeUndefined();
    expect(parseScope('   ')).toBeUndefined();
  });

  it('refuses characters outside the RFC 6749 §3.3 scope-token with invalid_scope', () => {
    for (const bad of ['a"b', 'a\\b', 'é', 'a\tb'])
      expect(errorOf(() => parseScope(bad)).code).toBe('invalid_scope');
  });

  it('checks subsets', () => {
    expect(isSubset(['a'], ['a', 'b'])).toBe(true);
    expect(isSubset(['a', 'c'], ['a', 'b'])).toBe(false);
    expect(isSubset([], [])).toBe(true);
  });
});

describe('sentClientId (audit only)', () => {
  it('reads the Basic user or the body client_id, truncated', () => {
    const basic = `Basic ${Buffer.from('my%20id:secret').toString('base64')}`;
    expect(sentClientId(fakeRequest({}, true, { authorization: basic }))).toBe('my id');
    expect(sentClientId(fakeRequest({ client_id: 'x'.repeat(300) }))).toBe('x'.repeat(128));
    expect(sentClientId(fakeRequest({}))).toBeNull();
  });
});

describe('token shapes and lookup order (hints honoured, not trusted)', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
  const refresh = 'a'.repeat(43);

  it('recognises refresh tokens and JWTs', () => {
    expect(looksLikeRefreshToken(refresh)).toBe(true);
    expect(looksLikeRefreshToken(jwt)).toBe(false);
    expect(looksLikeJwt(jwt)).toBe(true);
    expect(looksLikeJwt(refresh)).toBe(false);
  });

  it('tries the hinted kind first, then the other one', () => {
    expect(lookupOrder(jwt, undefined)).toEqual(['access_token', 'refresh_token']);
    expect(lookupOrder(refresh, undefined)).toEqual(['refresh_token', 'access_token']);
    expect(lookupOrder(jwt, 'refresh_token')).toEqual(['refresh_token', 'access_token']);
    expect(lookupOrder(refresh, 'access_token')).toEqual(['access_token', 'refresh_token']);
  });
});

describe('CORS origins of redirect URIs', () => {
  it('takes the origin of http(s) URIs, port included; private-use schemes have none', () => {
    expect(originOf('https://app.example/cb?x=1')).toBe('https://app.example');
    expect(originOf('http://127.0.0.1:8080/cb')).toBe('http://127.0.0.1:8080');
    expect(originOf('https://app.example:443/cb')).toBe('https://app.example');
    expect(originOf('com.example.app:/callback')).toBeNull();
    expect(originOf('not a url')).toBeNull();
  });
});

describe('authorization server metadata', () => {
  it('derives every endpoint from the issuer', () => {
    const doc = authorizationServerMetadata({ issuer: 'https://as.example', scopes: ['api:read'] } as never);
    expect(doc.token_endpoint).toBe('https://as.example/oauth/token');
    expect(doc.jwks_uri).toBe('https://as.example/oauth/jwks');
    expect(doc.scopes_supported).toEqual([
      'api:read',
      'openid',
      'profile',
      'email',
      'clients:read',
      'clients:write',
      'audit:read',
      'users:read',
      'users:write',
      'metrics:read',
    ]);
  });
});
