import type { ReplayStore } from './replay-store';

export const LATCHKEY_RESOURCE_SERVER_OPTIONS = Symbol('LATCHKEY_RESOURCE_SERVER_OPTIONS');

/** Options of LatchkeyResourceServerModule.forRoot. Only `issuer` and `audience` are required. */
export interface LatchkeyResourceServerOptions {
  /** Latchkey's issuer identifier, e.g. https://login.example.com (its metadata and JWKS are discovered from it) */
  issuer: string;
  /** the `aud` this API accepts (Latchkey's ACCESS_TOKEN_AUDIENCE); a token for another audience is refused */
  audience: string | string[];
  /** allowed clock skew for `exp`/`iat`/`nbf` and DPoP `iat`, in seconds (default 5) */
  clockToleranceSeconds?: number;
  /** how long a fetched JWKS is trusted before it is fetched again, in ms (default 10 minutes) */
  jwksCacheMaxAgeMs?: number;
  /** minimum time between two JWKS fetches caused by an unknown `kid`, in ms (default 30 s) */
  jwksCooldownMs?: number;
  /** DPoP (RFC 9449) proof checks */
  dpop?: {
    /** how old a proof may be (its `iat`), in seconds (default 60, as Latchkey's DPOP_PROOF_MAX_AGE) */
    maxAgeSeconds?: number;
    /**
     * the scheme, host and port clients use to reach this API (`htu` is compared against it plus the path),
     * e.g. https://api.example.com behind a proxy; default: the request's protocol and Host header
     */
    origin?: string;
    /** where seen proof `jti`s are remembered; default an in-memory store (use a shared one for several instances) */
    replayStore?: ReplayStore;
  };
  /**
   * Opt-in introspection (RFC 7662) for routes marked @Introspect(): they see a revoked token at once. The
   * credentials are those of a confidential client registered at Latchkey.
   */
  introspection?: {
    clientId: string;
    clientSecret: string;
    /** how long an introspection answer is reused, in seconds (default 5, at most 60) */
    cacheTtlSeconds?: number;
    /** at most this many answers are cached (default 10,000; the oldest is dropped) */
    cacheMaxEntries?: number;
  };
  /** realm of the WWW-Authenticate challenges (default: none) */
  realm?: string;
  /**
   * Called (awaited) for every refused request, for the team's audit trail: Latchkey's `api.access_denied`
   * vocabulary (Latchkey's docs/audit.md). Never carries the token.
   */
  onAccessDenied?: (event: AccessDeniedEvent) => void | Promise<void>;
}

/** A refused request, in Latchkey's audit vocabulary (type `api.access_denied`, outcome `failure`). */
export interface AccessDeniedEvent {
  type: 'api.access_denied';
  outcome: 'failure';
  /** the OAuth error sent, if any */
  error_code: string | undefined;
  details: {
    reason:
      | 'missing_token'
      | 'invalid_token'
      | 'insufficient_scope'
      | 'invalid_dpop_proof'
      | 'invalid_request'
      | 'issuer_unavailable';
    description: string;
    path: string;
    method: string;
  };
}
