import { Injectable } from '@nestjs/common';
import type { HttpRequest } from '../common/http';
import { AccessTokenVerifier, type AccessTokenClaims } from '../keys/access-token.verifier';

/** Why a protected-resource request was refused (RFC 6750 §3.1), with the EVENTS.md reason. */
export interface ResourceTokenRefusal {
  status: 401 | 403;
  /** absent when no token was sent at all (RFC 6750 §3.1) */
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  description?: string;
  reason: string;
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
  constructor(private readonly verifier: AccessTokenVerifier) {}

  async authenticate(req: HttpRequest, requiredScope: string): Promise<ResourceTokenResult> {
    const header = req.headers.authorization;
    if (header === undefined || header === '')
      return { ok: false, refusal: { status: 401, reason: 'missing_token' } };
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
    if (!match)
      return {
        ok: false,
        refusal: {
          status: 401,
          error: 'invalid_token',
          description: 'the Authorization header must be "Bearer <access token>"',
          reason: 'invalid_token',
        },
      };
    const claims = await this.verifier.verify(match[1]);
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
