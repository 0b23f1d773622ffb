import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatableClient } from '../../clients/clients.service';
import { randomToken, sha256Hex } from '../../common/crypto';
import { oauthConfig, type OAuthConfig } from '../../config/config.namespaces';
import { AccessTokenIssuer } from '../access-token.issuer';
import { GrantRevocations } from '../grant-revocations.service';
import { parseScope, required, type FormParams } from '../oauth-request';
import { TokensRepository, type GrantTokensRow } from '../tokens.repository';
import { grantError, isSubset, type IssuedTokens, type TokenGrant } from './token-grant';

export interface RefreshTokenParams {
  refreshToken: string;
  /** requested scopes, or undefined to keep the grant's */
  scopes: string[] | undefined;
}

/**
 * grant_type=refresh_token (RFC 6749 §6, OAuth 2.1 §4.3.1, with rotation per OAuth 2.1 §4.3.1 / RFC 9700 §4.14.2).
 *
 * Opaque 256-bit tokens stored as SHA-256, bound to client and grant, rotated on every use; the successor keeps
 * the grant's scope and absolute expiry (REFRESH_TOKEN_TTL from the grant's start). A narrower `scope` narrows
 * only the new access token; a wider one is invalid_scope. Presenting a rotated token is reuse: invalid_grant and
 * the whole grant revoked, atomically with its events — except within REFRESH_REUSE_GRACE of the rotation, when
 * it gets another successor in the same grant (the first successor stays valid).
 *
 * The success path is one statement (rotate + insert successor); the reasons for a refusal are read only when
 * that statement changed nothing.
 */
@Injectable()
export class RefreshTokenGrant implements TokenGrant<RefreshTokenParams> {
  readonly grantType = 'refresh_token' as const;

  constructor(
    private readonly repository: TokensRepository,
    private readonly revocations: GrantRevocations,
    private readonly issuer: AccessTokenIssuer,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  parse(params: FormParams): RefreshTokenParams {
    return { refreshToken: required(params, 'refresh_token'), scopes: parseScope(params.scope) };
  }

  async exchange(client: AuthenticatableClient, params: RefreshTokenParams): Promise<IssuedTokens> {
    const tokenHash = sha256Hex(params.refreshToken);
    const requestedScope = params.scopes ? params.scopes.join(' ') : null;
    const grace = this.oauth.refreshReuseGrace;
    for (let attempt = 0; attempt < 2; attempt++) {
      const successor = randomToken();
      const input = {
        tokenHash,
        clientId: client.clientId,
        successorHash: sha256Hex(successor),
        requestedScope,
      };
      const rotated = await this.repository.rotateRefresh(input);
      if (rotated) return this.issued(client, rotated, successor, requestedScope);
      // reuse of an already rotated token within REFRESH_REUSE_GRACE: served, but never without a trace
      const reissued =
        grace > 0 ? await this.repository.reissueWithinGrace({ ...input, graceSeconds: grace }) : undefined;
      if (reissued) {
        const issued = this.issued(client, reissued, successor, requestedScope);
        return { ...issued, details: { grace_reuse: true } };
      }
      await this.refuse(client, tokenHash, params.scopes);
    }
    // Changed under our feet twice (concurrent rotation and revocation): refuse without guessing.
    throw grantError('the refresh token is invalid', 'refresh_unknown');
  }

  private issued(
    client: AuthenticatableClient,
    row: GrantTokensRow,
    refreshToken: string,
    requestedScope: string | null,
  ): IssuedTokens {
    const scope = requestedScope ?? row.scope;
    const { accessToken, expiresIn } = this.issuer.issue({
      subject: row.user_id!,
      clientId: client.clientId,
      scope,
      grantId: row.grant_id,
    });
    return {
      subject: row.user_id!,
      grantId: row.grant_id,
      body: {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: expiresIn,
        scope,
        refresh_token: refreshToken,
      },
    };
  }

  /** Throws the precise refusal; returns only if nothing explains it (then the caller retries once). */
  private async refuse(
    client: AuthenticatableClient,
    tokenHash: string,
    scopes: string[] | undefined,
  ): Promise<void> {
    const grace = this.oauth.refreshReuseGrace;
    const state = await this.repository.refreshTokenState(tokenHash, grace);
    if (!state) throw grantError('the refresh token is invalid', 'refresh_unknown');
    if (state.client_id !== client.clientId) {
      throw grantError('the refresh token was issued to another client', 'refresh_client_mismatch');
    }
    if (state.rotated_at && !(grace > 0 && state.in_grace)) {
      // RFC 9700 §4.14.2: reuse of a rotated token means it leaked; revoke the whole grant.
      await this.revocations.revokeForAbuse({
        revoke: (manager) => this.repository.revokeGrant(state.grant_id, 'refresh_reused', manager),
        cause: 'refresh_reused',
        clientId: client.clientId,
        grantType: this.grantType,
        description: 'the refresh token has already been used; the grant is revoked',
      });
    }
    if (state.grant_revoked || state.revoked_at) {
      throw grantError('the refresh token has been revoked', 'refresh_revoked');
    }
    if (state.expired) throw grantError('the refresh token has expired', 'refresh_expired');
    if (scopes && !isSubset(scopes, state.scope.split(' ').filter(Boolean))) {
      throw grantError('the requested scope exceeds the granted scope', 'invalid_scope', {}, 'invalid_scope');
    }
  }
}
