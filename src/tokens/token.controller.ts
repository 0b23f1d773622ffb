import { Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { ClientAuthGuard, ClientAuthPolicyOf } from './client-auth/client-auth.guard';
import { DpopProofVerifier } from '../dpop/dpop-proof.verifier';
import type { TokenResponseBody } from './grants/token-grant';
import type { IntrospectionResponse } from './introspection.service';
import { IntrospectionService } from './introspection.service';
import type { OAuthRequest } from './oauth-request';
import {
  IntrospectionRequestGuard,
  RevocationRequestGuard,
  TokenRequestGuard,
  type TokenLookupParams,
} from './protocol-request.guards';
import { RevocationService } from './revocation.service';
import { TokenEndpointService, type ParsedTokenRequest } from './token-endpoint.service';

/**
 * The protocol endpoints of the tokens module. Guards run in order: the global rate limit, the endpoint's
 * request syntax (form-encoded, no repeated parameter), then client authentication (passport strategies).
 * Every response carries Cache-Control: no-store and Pragma: no-cache (registerProtocolHeaders, cors.ts).
 */
@Controller('oauth')
export class TokenController {
  constructor(
    private readonly tokens: TokenEndpointService,
    private readonly revocation: RevocationService,
    private readonly introspection: IntrospectionService,
  ) {}

  /** RFC 6749 §3.2 token endpoint: authorization_code (PKCE), refresh_token, client_credentials. */
  @Post('token')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  @ClientAuthPolicyOf({ endpoint: 'token', confidentialOnly: false })
  @UseGuards(TokenRequestGuard, ClientAuthGuard)
  token(@Req() req: OAuthRequest): Promise<TokenResponseBody> {
    const state = req.oauth!;
    return this.tokens.issue(
      state.client!,
      state.parsed as ParsedTokenRequest,
      DpopProofVerifier.headersOf(req),
    );
  }

  /** RFC 7009 revocation: 200 with an empty body, whether or not anything was revoked. */
  @Post('revoke')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  @ClientAuthPolicyOf({ endpoint: 'revocation', confidentialOnly: false })
  @UseGuards(RevocationRequestGuard, ClientAuthGuard)
  async revoke(@Req() req: OAuthRequest): Promise<void> {
    const state = req.oauth!;
    await this.revocation.revoke(state.client!, state.parsed as TokenLookupParams);
  }

  /** RFC 7662 introspection, for confidential clients. */
  @Post('introspect')
  @HttpCode(200)
  @ApiExcludeEndpoint()
  @ClientAuthPolicyOf({ endpoint: 'introspection', confidentialOnly: true })
  @UseGuards(IntrospectionRequestGuard, ClientAuthGuard)
  introspect(@Req() req: OAuthRequest): Promise<IntrospectionResponse> {
    const state = req.oauth!;
    return this.introspection.introspect(state.client!, state.parsed as TokenLookupParams);
  }
}
