import { Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { PushedRequestsService } from '../authorization/pushed-requests.service';
import { AuditEmitter } from '../events/events';
import { OAuthError } from '../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { ClientAuthGuard, ClientAuthPolicyOf } from './client-auth/client-auth.guard';
import { DpopProofVerifier } from '../dpop/dpop-proof.verifier';
import type { OAuthRequest } from './oauth-request';
import { ParRequestGuard } from './protocol-request.guards';

/**
 * POST /oauth/par (RFC 9126): client authentication as at the token endpoint, then the authorization request
 * rules in their order, every failure a JSON error; success 201 `{request_uri, expires_in}`. A DPoP proof sent
 * here binds the code to its key (RFC 9449 §10). Audited: par.pushed, par.request_failed (client-authentication
 * failures are client.authentication_failed, as everywhere).
 */
@Controller('oauth')
export class ParController {
  constructor(
    private readonly pushed: PushedRequestsService,
    private readonly dpop: DpopProofVerifier,
    private readonly audit: AuditEmitter,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  @Post('par')
  @HttpCode(201)
  @ApiExcludeEndpoint()
  @ClientAuthPolicyOf({ endpoint: 'par', confidentialOnly: false })
  @UseGuards(ParRequestGuard, ClientAuthGuard)
  async push(@Req() req: OAuthRequest): Promise<{ request_uri: string; expires_in: number }> {
    const { client, params } = req.oauth!;
    try {
      const proof = await this.dpop.verifyIfPresent({
        headers: DpopProofVerifier.headersOf(req),
        method: 'POST',
        url: `${this.oauth.issuer}/oauth/par`,
      });
      const pushed = await this.pushed.push(client!, params, proof?.jkt ?? null);
      await this.audit.record({
        type: 'par.pushed',
        outcome: 'success',
        clientId: client!.clientId,
        details: { scope: pushed.scope, dpop_bound: proof !== undefined },
      });
      return { request_uri: pushed.request_uri, expires_in: pushed.expires_in };
    } catch (err) {
      if (err instanceof OAuthError) await recordParFailure(this.audit, err, client!.clientId);
      throw err;
    }
  }
}

/** par.request_failed with the OAuth error sent and the reason code. */
export function recordParFailure(
  audit: AuditEmitter,
  err: OAuthError,
  clientId: string | null,
): Promise<void> {
  return audit.record({
    type: 'par.request_failed',
    outcome: 'failure',
    errorCode: err.code,
    reason: err.reason,
    clientId,
    details: { reason: err.reason },
  });
}
