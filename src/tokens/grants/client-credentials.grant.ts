import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatableClient } from '../../clients/clients.service';
import { oauthConfig, type OAuthConfig } from '../../config/config.namespaces';
import { uuidV7 } from '../../common/crypto';
import { OIDC_SCOPES } from '../../common/scopes';
import { AccessTokenIssuer } from '../access-token.issuer';
import { parseScope, type FormParams } from '../oauth-request';
import { GrantsService } from '../../grants/grants.service';
import type { VerifiedDpopProof } from '../../dpop/dpop-proof.verifier';
import { grantError, isSubset, tokenTypeFor, type IssuedTokens, type TokenGrant } from './token-grant';

export interface ClientCredentialsParams {
  scopes: string[] | undefined;
}

/**
 * grant_type=client_credentials (RFC 6749 §4.4): confidential clients only (the endpoint checks), requested
 * scope ⊆ registered scope (absent = all registered), `sub` = client_id, never a refresh token. Each issuance
 * is its own grant row, expiring with the access token, so revocation works the same as for user grants.
 */
@Injectable()
export class ClientCredentialsGrant implements TokenGrant<ClientCredentialsParams> {
  readonly grantType = 'client_credentials' as const;

  constructor(
    private readonly grants: GrantsService,
    private readonly issuer: AccessTokenIssuer,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  parse(params: FormParams): ClientCredentialsParams {
    return { scopes: parseScope(params.scope) };
  }

  async exchange(
    client: AuthenticatableClient,
    params: ClientCredentialsParams,
    dpop?: VerifiedDpopProof,
  ): Promise<IssuedTokens> {
    // the OIDC scopes are user scopes: never granted to client_credentials (docs/openid-connect.md)
    const grantable = client.scopes.filter((s) => !OIDC_SCOPES.includes(s));
    if (params.scopes && !isSubset(params.scopes, grantable)) {
      throw grantError(
        'the requested scope is not registered for this client',
        'invalid_scope',
        {},
        'invalid_scope',
      );
    }
    const scope = (params.scopes ?? grantable).join(' ');
    const grantId = uuidV7(); // time-ordered (authorization-code.grant.ts)
    await this.grants.insertClientGrant({
      grantId,
      clientId: client.clientId,
      scope,
      ttlSeconds: this.oauth.accessTokenTtl,
    });
    const { accessToken, expiresIn } = await this.issuer.issue({
      subject: client.clientId,
      clientId: client.clientId,
      scope,
      grantId,
      grantType: 'client_credentials',
      jkt: dpop?.jkt,
    });
    return {
      subject: client.clientId,
      grantId,
      body: { access_token: accessToken, token_type: tokenTypeFor(dpop), expires_in: expiresIn, scope },
    };
  }
}
