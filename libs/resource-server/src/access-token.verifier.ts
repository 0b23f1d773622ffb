import { createHash } from 'node:crypto';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  EmbeddedJWK,
  errors,
  jwtVerify,
  type JWK,
  type JWTPayload,
} from 'jose';
import * as oauth from 'oauth4webapi';
import { IntrospectionCache } from './introspection-cache';
import { InMemoryReplayStore, type ReplayStore } from './replay-store';
import type { LatchkeyResourceServerOptions } from './resource-server.options';
import { TokenError } from './token-error';

/** The only access token algorithm accepted: Latchkey signs with ES256, and `alg` is never taken from the token. */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256'];
/** The DPoP proof algorithms Latchkey advertises (dpop_signing_alg_values_supported). */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];

/** What a route sees of a verified access token (request.latchkey, or the @AccessToken() parameter). */
export interface VerifiedAccessToken {
  /** the claims of the JWT (RFC 9068: iss, sub, aud, client_id, scope, iat, exp, jti, and cnf when bound) */
  claims: JWTPayload & { client_id: string; scope?: string; cnf?: { jkt?: string } };
  subject: string;
  clientId: string;
  scopes: string[];
  /** the RFC 7638 thumbprint of the key the token is bound to (DPoP), else undefined */
  jkt?: string;
}

/** The parts of an HTTP request the verifier needs (framework-neutral). */
export interface ResourceRequest {
  method: string;
  /** the absolute URL the client addressed (for DPoP `htu`) */
  url: string;
  authorization: string | string[] | undefined;
  dpop: string | string[] | undefined;
}

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Verifies RFC 9068 access tokens issued by Latchkey, and the DPoP proofs of bound tokens. Framework-neutral
 * (the Nest guard is a thin layer over it). All cryptography is jose's; discovery and introspection are
 * oauth4webapi's.
 */
export class AccessTokenVerifier {
  private server?: Promise<oauth.AuthorizationServer>;
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly replay: ReplayStore;
  private readonly introspectionCache?: IntrospectionCache;
  private readonly skew: number;
  private readonly audiences: string[];

  constructor(
    private readonly options: LatchkeyResourceServerOptions,
    private readonly now: () => number = Date.now,
  ) {
    const issuer = new URL(options.issuer);
    if (issuer.href.replace(/\/$/, '') !== options.issuer.replace(/\/$/, ''))
      throw new Error('LatchkeyResourceServerModule: issuer must be an absolute URL');
    this.audiences = [options.audience].flat().filter(Boolean);
    if (this.audiences.length === 0) throw new Error('LatchkeyResourceServerModule: audience is required');
    this.skew = options.clockToleranceSeconds ?? 5;
    this.replay = options.dpop?.replayStore ?? new InMemoryReplayStore();
    if (options.introspection) {
      this.introspectionCache = new IntrospectionCache(
        Math.min(options.introspection.cacheTtlSeconds ?? 5, 60) * 1000,
        options.introspection.cacheMaxEntries ?? 10_000,
        now,
      );
    }
  }

  /** The discovered metadata (RFC 8414), fetched once; a failed discovery is retried on the next request. */
  metadata(): Promise<oauth.AuthorizationServer> {
    if (!this.server) {
      const issuer = new URL(this.options.issuer);
      this.server = oauth
        .discoveryRequest(issuer, {
          algorithm: 'oauth2',
          // an http issuer is a deliberate choice of the configuration (development, tests)
          [oauth.allowInsecureRequests]: issuer.protocol === 'http:',
        })
        .then((res) => oauth.processDiscoveryResponse(issuer, res));
      this.server.catch(() => (this.server = undefined));
    }
    return this.server;
  }

  private async keys() {
    if (!this.jwks) {
      const as = await this.metadata();
      if (!as.jwks_uri) throw new Error('Latchkey metadata has no jwks_uri');
      this.jwks = createRemoteJWKSet(new URL(as.jwks_uri), {
        cacheMaxAge: this.options.jwksCacheMaxAgeMs ?? 10 * 60_000,
        cooldownDuration: this.options.jwksCooldownMs ?? 30_000,
      });
    }
    return this.jwks;
  }

  /** Verifies the request's credentials; throws TokenError (never anything else) when they are refused. */
  async verify(req: ResourceRequest, opts: { introspect?: boolean } = {}): Promise<VerifiedAccessToken> {
    const { scheme, token } = this.credentials(req);
    const claims = await this.verifyJwt(token, scheme);
    const jkt = claims.cnf?.jkt;
    if (jkt !== undefined && typeof jkt !== 'string') throw this.invalidToken('malformed cnf claim', scheme);
    if (scheme === 'Bearer' && jkt) {
      // RFC 9449 §7.1: a bound token must come with its proof
      throw this.invalidToken('the access token is DPoP-bound: send it with "Authorization: DPoP"', 'DPoP');
    }
    if (scheme === 'DPoP') {
      if (!jkt) throw this.invalidToken('the access token is not DPoP-bound: send it as Bearer', 'DPoP');
      await this.verifyProof(req, token, jkt);
    }
    if (opts.introspect) await this.introspect(token, scheme);
    return {
      claims,
      subject: String(claims.sub),
      clientId: claims.client_id,
      scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
      jkt,
    };
  }

  /** RFC 6750 §2.1 / RFC 9449 §7.1: exactly one Authorization header, scheme Bearer or DPoP, a token68. */
  private credentials(req: ResourceRequest): { scheme: 'Bearer' | 'DPoP'; token: string } {
    const header = req.authorization;
    if (header === undefined || header === '') throw new TokenError(401, undefined, 'no access token');
    if (Array.isArray(header)) {
      throw new TokenError(400, 'invalid_request', 'more than one Authorization header');
    }
    const match = /^(\S+) +(\S+)$/.exec(header.trim());
    const scheme = match?.[1].toLowerCase();
    if (!match || (scheme !== 'bearer' && scheme !== 'dpop')) {
      throw new TokenError(401, undefined, 'no Bearer or DPoP access token');
    }
    if (!TOKEN68.test(match[2])) throw new TokenError(400, 'invalid_request', 'malformed access token');
    return { scheme: scheme === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
  }

  private async verifyJwt(token: string, scheme: 'Bearer' | 'DPoP'): Promise<VerifiedAccessToken['claims']> {
    let keys;
    try {
      keys = await this.keys();
    } catch {
      throw new TokenError(503, undefined, 'the authorization server cannot be reached', scheme);
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: this.options.issuer,
        audience: this.audiences,
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance: this.skew,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
        currentDate: new Date(this.now()),
      });
      if (typeof payload.client_id !== 'string') throw this.invalidToken('malformed client_id claim', scheme);
      if (payload.scope !== undefined && typeof payload.scope !== 'string') {
        throw this.invalidToken('malformed scope claim', scheme);
      }
      return payload as VerifiedAccessToken['claims'];
    } catch (e) {
      if (e instanceof TokenError) throw e;
      throw this.invalidToken(describe(e, 'access token'), scheme);
    }
  }

  /** RFC 9449 §4.3 and §7.1: the proof of possession of the key the token is bound to. */
  private async verifyProof(req: ResourceRequest, token: string, jkt: string): Promise<void> {
    const proofHeader = req.dpop;
    if (proofHeader === undefined || proofHeader === '') throw this.invalidProof('no DPoP proof');
    if (Array.isArray(proofHeader)) throw this.invalidProof('more than one DPoP header');
    const maxAge = this.options.dpop?.maxAgeSeconds ?? 60;
    let payload: JWTPayload;
    let jwk: JWK;
    try {
      const verified = await jwtVerify(proofHeader, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: DPOP_ALGORITHMS,
        requiredClaims: ['jti', 'htm', 'htu', 'iat', 'ath'],
        maxTokenAge: maxAge,
        clockTolerance: this.skew,
        currentDate: new Date(this.now()),
      });
      payload = verified.payload;
      jwk = verified.protectedHeader.jwk as JWK;
    } catch (e) {
      throw this.invalidProof(describe(e, 'DPoP proof'));
    }
    if (payload.htm !== req.method.toUpperCase())
      throw this.invalidProof('htm does not match the request method');
    if (typeof payload.htu !== 'string' || !sameResource(payload.htu, this.resourceUrl(req))) {
      throw this.invalidProof('htu does not match the request URL');
    }
    if (payload.ath !== createHash('sha256').update(token).digest('base64url')) {
      throw this.invalidProof('ath does not match the access token');
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) {
      throw this.invalidProof('malformed jti');
    }
    const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
    if (thumbprint !== jkt) {
      throw this.invalidToken('the DPoP proof is signed by another key than the token is bound to', 'DPoP');
    }
    const expires = ((payload.iat as number) + maxAge + this.skew) * 1000;
    if (await this.replay.seen(`${thumbprint}:${payload.jti}`, expires)) {
      throw this.invalidProof('DPoP proof replayed (jti already seen)');
    }
  }

  private resourceUrl(req: ResourceRequest): string {
    const origin = this.options.dpop?.origin;
    if (!origin) return req.url;
    const url = new URL(req.url);
    return new URL(url.pathname + url.search, origin).href;
  }

  /** RFC 7662, for routes that must see revocation at once; answers are cached briefly (bounded). */
  private async introspect(token: string, scheme: 'Bearer' | 'DPoP'): Promise<void> {
    const config = this.options.introspection;
    if (!config || !this.introspectionCache) {
      throw new Error('@Introspect() needs the introspection option of LatchkeyResourceServerModule.forRoot');
    }
    const key = createHash('sha256').update(token).digest('base64url');
    let active = this.introspectionCache.get(key);
    if (active === undefined) {
      try {
        const as = await this.metadata();
        const client = { client_id: config.clientId };
        const res = await oauth.introspectionRequest(
          as,
          client,
          oauth.ClientSecretBasic(config.clientSecret),
          token,
          {
            additionalParameters: { token_type_hint: 'access_token' },
            [oauth.allowInsecureRequests]: new URL(this.options.issuer).protocol === 'http:',
          },
        );
        const answer = await oauth.processIntrospectionResponse(as, client, res);
        active = answer.active === true;
        this.introspectionCache.set(
          key,
          active,
          typeof answer.exp === 'number' ? answer.exp * 1000 : undefined,
        );
      } catch {
        throw new TokenError(503, undefined, 'the authorization server cannot be reached', scheme);
      }
    }
    if (!active) throw this.invalidToken('the access token is no longer active (revoked)', scheme);
  }

  private invalidToken(description: string, scheme: 'Bearer' | 'DPoP'): TokenError {
    return new TokenError(401, 'invalid_token', description, scheme);
  }

  private invalidProof(description: string): TokenError {
    return new TokenError(401, 'invalid_dpop_proof', description, 'DPoP');
  }
}

/** htu is compared without query and fragment (RFC 9449 §4.3), after URL normalisation. */
function sameResource(htu: string, requestUrl: string): boolean {
  try {
    const a = new URL(htu);
    const b = new URL(requestUrl);
    return a.origin === b.origin && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

/** A short, safe description of a jose failure (never the token itself). */
function describe(e: unknown, what: string): string {
  if (e instanceof errors.JWTExpired) return `${what} expired`;
  if (e instanceof errors.JWTClaimValidationFailed)
    return `${what}: ${e.claim} claim check failed (${e.reason})`;
  if (e instanceof errors.JOSEAlgNotAllowed) return `${what}: signature algorithm not allowed`;
  if (e instanceof errors.JWKSNoMatchingKey) return `${what}: unknown signing key (kid)`;
  if (e instanceof errors.JWSSignatureVerificationFailed) return `${what}: signature verification failed`;
  if (e instanceof errors.JWTInvalid || e instanceof errors.JWSInvalid)
    return `${what}: malformed (${e.message})`;
  return `${what}: invalid`;
}
