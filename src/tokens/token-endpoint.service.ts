import { Inject, Injectable } from '@nestjs/common';
import { ClientRateLimit } from '../rate-limit/client-rate-limit.service';
import type { GrantType } from '../clients/client';
import type { AuthenticatableClient } from '../clients/clients.service';
import { AuditEmitter } from '../events/events';
import { InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType } from '../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { DpopProofVerifier } from '../dpop/dpop-proof.verifier';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import { RefreshTokenGrant } from './grants/refresh-token.grant';
import type { IssuedTokens, TokenGrant, TokenResponseBody } from './grants/token-grant';
import { TokenRequestError, type FormParams } from './oauth-request';

/** A token request after its syntax check: which grant, with its parsed parameters. */
export interface ParsedTokenRequest {
  grant: TokenGrant;
  params: unknown;
}

/**
 * POST /oauth/token: dispatches to the grant (one file per grant under grants/) and audits every outcome:
 * token.issued, or one token.request_failed (client-authentication failures are audited by ClientAuthGuard).
 */
@Injectable()
export class TokenEndpointService {
  private readonly grants: ReadonlyMap<string, TokenGrant>;

  constructor(
    authorizationCode: AuthorizationCodeGrant,
    refreshToken: RefreshTokenGrant,
    clientCredentials: ClientCredentialsGrant,
    private readonly audit: AuditEmitter,
    private readonly dpop: DpopProofVerifier,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
    private readonly rateLimit: ClientRateLimit,
  ) {
    this.grants = new Map<string, TokenGrant>(
      [authorizationCode, refreshToken, clientCredentials].map((g) => [g.grantType, g as TokenGrant]),
    );
  }

  /** Syntax only (before client authentication): grant_type and the grant's own parameters. */
  parse(params: FormParams): ParsedTokenRequest {
    const grantType = params.grant_type;
    if (grantType === undefined) throw new InvalidRequest('parameter grant_type is required');
    const grant = this.grants.get(grantType);
    if (!grant) throw new UnsupportedGrantType('this grant_type is not supported');
    return { grant, params: grant.parse(params) };
  }

  /**
   * `dpopHeaders`: the request's DPoP header lines. A valid proof binds the access token (and a public client's
   * refresh token) to its key (RFC 9449 §5); an invalid one is 400 invalid_dpop_proof before the grant is touched.
   */
  async issue(
    client: AuthenticatableClient,
    request: ParsedTokenRequest,
    dpopHeaders: string[] = [],
  ): Promise<TokenResponseBody> {
    const grantType: GrantType = request.grant.grantType;
    try {
      // RFC 6749 §5.2 unauthorized_client; client_credentials never for public clients (RFC 6749 §4.4)
      if (!client.grantTypes.includes(grantType) || (grantType === 'client_credentials' && client.isPublic)) {
        throw new UnauthorizedClient(`this client may not use the ${grantType} grant`);
      }
      const proof = await this.dpop.verifyIfPresent({
        headers: dpopHeaders,
        method: 'POST',
        url: `${this.oauth.issuer}/oauth/token`,
      });
      // RFC 9449 §5.2 dpop_bound_access_tokens
      if (!proof && client.dpopBoundAccessTokens) {
        throw new InvalidRequest(
          'this client must send a DPoP proof with every token request',
          'dpop_proof_missing',
        );
      }
      // token.issued is written by the grant's own statement when it can (one commit for the request)
      const staged = request.grant.writesIssuedEvent
        ? await this.audit.stage({
            type: 'token.issued',
            outcome: 'success',
            clientId: client.clientId,
            details: { grant_type: grantType, ...(proof ? { token_type: 'DPoP' } : {}) },
          })
        : undefined;
      let issued: IssuedTokens;
      try {
        issued = await request.grant.exchange(client, request.params, proof, staged);
      } catch (err) {
        staged?.discard();
        throw err;
      }
      // a public client is authenticated by the code or refresh token it just redeemed: only now it counts
      if (client.isPublic) await this.rateLimit.charge(client.clientId, '/oauth/token', { refuse: false });
      const details = {
        grant_type: grantType,
        scope: issued.body.scope,
        grant_id: issued.grantId,
        ...(issued.body.token_type === 'DPoP' ? { token_type: 'DPoP' } : {}),
        ...issued.details,
      };
      if (staged && issued.issuedEventWritten) {
        await this.audit.recordStaged(staged, { subject: issued.subject, details });
      } else {
        staged?.discard(); // the grant's statement did not write it (no-op when the grant already discarded it)
        await this.audit.record({
          type: 'token.issued',
          outcome: 'success',
          clientId: client.clientId,
          subject: issued.subject,
          details,
        });
      }
      return issued.body;
    } catch (err) {
      if (err instanceof OAuthError && !(err instanceof TokenRequestError && err.audited)) {
        await this.recordFailure(err, client.clientId, grantType);
      }
      throw err;
    }
  }

  /** token.request_failed with the OAuth error sent and the reason code (docs/audit.md). */
  recordFailure(err: OAuthError, clientId: string | null, grantType: string | null): Promise<void> {
    const extra = err instanceof TokenRequestError ? err.details : {};
    return this.audit.record({
      type: 'token.request_failed',
      outcome: 'failure',
      errorCode: err.code,
      reason: err.reason,
      clientId,
      details: { grant_type: grantType, reason: err.reason, ...extra },
    });
  }
}
