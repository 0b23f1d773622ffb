import { Inject, Injectable } from '@nestjs/common';
import { requestPath, type HttpRequest } from '../http/http';
import { DpopProofError, OAuthError } from '../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { DpopProofVerifier } from './dpop-proof.verifier';

/** The access token of a request to a protected resource, with the scheme it came in (RFC 6750 §2.1, RFC 9449 §7.1). */
export interface PresentedAccessToken {
  scheme: 'Bearer' | 'DPoP';
  token: string;
}

/** `Authorization: Bearer <token>` or `Authorization: DPoP <token>`; undefined for anything else. */
export function presentedAccessToken(header: unknown): PresentedAccessToken | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) return undefined;
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

/**
 * RFC 9449 §7: what a protected resource of this server checks once the access token itself is valid. A token
 * with `cnf.jkt` must come as `Authorization: DPoP` with a proof for this request (htm, htu = issuer + path,
 * `ath` = the token's hash) signed by that key; a bound token sent as `Bearer`, or an unbound one sent as `DPoP`,
 * is refused. Used by the admin/audit bearer guard; userinfo calls it the same way.
 *
 * Throws `OAuthError('invalid_token')` (reason `dpop_proof_missing` / `dpop_not_bound`) or a `DpopProofError`
 * answered as 401 with a `WWW-Authenticate: DPoP` challenge; the caller audits `err.reason`.
 */
@Injectable()
export class DpopResourceCheck {
  constructor(
    private readonly verifier: DpopProofVerifier,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  async check(
    req: HttpRequest,
    presented: PresentedAccessToken,
    boundJkt: string | undefined,
  ): Promise<void> {
    const headers = DpopProofVerifier.headersOf(req);
    if (boundJkt === undefined) {
      if (presented.scheme === 'DPoP') {
        throw new OAuthError('invalid_token', 'this access token is not DPoP-bound', 'dpop_not_bound');
      }
      return; // RFC 9449 §7.2: a DPoP header beside a Bearer token is ignored
    }
    if (presented.scheme !== 'DPoP' || headers.length === 0) {
      throw new OAuthError(
        'invalid_token',
        'this access token is DPoP-bound: send it as Authorization: DPoP with a DPoP proof',
        'dpop_proof_missing',
      );
    }
    let jkt: string;
    try {
      ({ jkt } = await this.verifier.verify({
        headers,
        method: req.method,
        url: `${this.oauth.issuer}${requestPath(req)}`,
        accessToken: presented.token,
      }));
    } catch (err) {
      if (err instanceof DpopProofError) throw err.forResource();
      throw err;
    }
    if (jkt !== boundJkt) {
      throw new DpopProofError(
        'invalid_dpop_proof',
        'the DPoP proof is signed by another key than the token is bound to',
        'dpop_key_mismatch',
        true,
      );
    }
  }
}
