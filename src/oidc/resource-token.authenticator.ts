import { Injectable } from '@nestjs/common';
import type { HttpRequest } from '../http/http';
import { DpopProofError, OAuthError } from '../common/oauth-errors';
import { AccessTokenVerifier, type AccessTokenClaims } from '../keys/access-token.verifier';
import { DpopResourceCheck, presentedAccessToken } from '../dpop/dpop-resource.check';

/** Why a protected-resource request was refused (RFC 6750 §3.1), with the reason code (docs/audit.md). */
export interface ResourceTokenRefusal {
  status: 401 | 403;
  /** absent when no token was sent at all (RFC 6750 §3.1) */
  error?:
    'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';
  description?: string;
  reason: string;
  /** the challenge scheme: `DPoP` for a proof failure or a DPoP-bound token (RFC 9449 §7.1) */
  scheme?: 'Bearer' | 'DPoP';
  /** a fresh server nonce to send as `DPoP-Nonce` (DPOP_REQUIRE_NONCE) */
  dpopNonce?: string;
}

export type ResourceTokenResult =
  { ok: true; claims: AccessTokenClaims } | { ok: false; refusal: ResourceTokenRefusal };

/**
 * The one token check of this server's user-facing protected resource (/oauth/userinfo): the access token
 * from the `Authorization` header, verified (signature, issuer, expiry, grant live, client enabled, jti not
 * revoked) and holding the required scope. Kept separate from the endpoint so that a sender-constraint check
 * (DPoP, RFC 9449: `Authorization: DPoP …` with a proof bound by `cnf.jkt`) plugs in here, in one place.
 */
@Injectable()
export class ResourceTokenAuthenticator {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    private readonly dpop: DpopResourceCheck,
  ) {}

  async authenticate(req: HttpRequest, requiredScope: string): Promise<ResourceTokenResult> {
    const header = req.headers.authorization;
    if (header === undefined || header === '')
      return { ok: false, refusal: { status: 401, reason: 'missing_token' } };
    const presented = presentedAccessToken(header);
    if (!presented)
      return {
        ok: false,
        refusal: {
          status: 401,
          error: 'invalid_token',
          description: 'the Authorization header must be "Bearer <access token>" or "DPoP <access token>"',
          reason: 'invalid_token',
        },
      };
    const claims = await this.verifier.verify(presented.token);
    if (!claims)
      return {
        ok: false,
        refusal: {
          status: 401,
          error: 'invalid_token',
          description: 'the access token is invalid, expired or revoked',
          reason: 'invalid_token',
        },
      };
    // RFC 9449 §7: a DPoP-bound token only as `Authorization: DPoP` with a proof of its key (ath, htm, htu)
    try {
      await this.dpop.check(req, presented, claims.cnf?.jkt);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const proof = err instanceof DpopProofError;
      return {
        ok: false,
        refusal: {
          status: 401,
          error: proof ? (err.code as 'invalid_dpop_proof' | 'use_dpop_nonce') : 'invalid_token',
          description: err.description,
          reason: err.reason ?? 'invalid_token',
          // a bound token (with or without a proof) is challenged for DPoP; an unbound one sent as DPoP, for Bearer
          scheme: err.reason === 'dpop_not_bound' ? 'Bearer' : 'DPoP',
          dpopNonce: proof ? err.nonce : undefined,
        },
      };
    }
    if (
      !String(claims.scope ?? '')
        .split(' ')
        .includes(requiredScope)
    )
      return {
        ok: false,
        refusal: {
          status: 403,
          error: 'insufficient_scope',
          description: `the access token lacks the ${requiredScope} scope`,
          reason: 'insufficient_scope',
        },
      };
    return { ok: true, claims };
  }
}
