import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatableClient } from '../../clients/clients.service';
import { randomToken, sha256Hex } from '../../common/crypto';
import { oauthConfig, type OAuthConfig } from '../../config/config.namespaces';
import { IdTokenIssuer } from '../../oidc/id-token.issuer';
import { AccessTokenIssuer } from '../access-token.issuer';
import { GrantRevocations } from '../../grants/grant-revocations.service';
import { parseScope, required, TokenRequestError, type FormParams } from '../oauth-request';
import { TokensRepository, type GrantTokensRow } from '../tokens.repository';
import type { VerifiedDpopProof } from '../../dpop/dpop-proof.verifier';
import type { StagedAuditEvent } from '../../events/events';
import {
  grantError,
  isSubset,
  profileOf,
  tokenTypeFor,
  type IssuedTokens,
  type TokenGrant,
} from './token-grant';

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
 * The success path is one statement (rotate + insert successor + the request's `token.issued`, staged); the reasons
 * for a refusal are read only when that statement changed nothing.
 */
@Injectable()
export class RefreshTokenGrant implements TokenGrant<RefreshTokenParams> {
  readonly grantType = 'refresh_token' as const;
  readonly writesIssuedEvent = true;

  constructor(
    private readonly repository: TokensRepository,
    private readonly revocations: GrantRevocations,
    private readonly issuer: AccessTokenIssuer,
    private readonly idTokens: IdTokenIssuer,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  parse(params: FormParams): RefreshTokenParams {
    return { refreshToken: required(params, 'refresh_token'), scopes: parseScope(params.scope) };
  }

  async exchange(
    client: AuthenticatableClient,
    params: RefreshTokenParams,
    dpop?: VerifiedDpopProof,
    issuedEvent?: StagedAuditEvent,
  ): Promise<IssuedTokens> {
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
        proofJkt: dpop?.jkt ?? null,
      };
      // the staged token.issued rides on the first rotation only; after that the event is recorded as usual
      const rotated = await this.repository.rotateRefresh({
        ...input,
        issuedEvent: attempt === 0 ? (issuedEvent?.row ?? null) : null,
      });
      if (rotated) {
        const issued = await this.issued(client, rotated, successor, requestedScope, dpop);
        return { ...issued, issuedEventWritten: attempt === 0 && issuedEvent !== undefined };
      }
      issuedEvent?.discard(); // before the refusal (or the grace reissue) records its own events
      // reuse of an already rotated token within REFRESH_REUSE_GRACE: served, but never without a trace
      const reissued =
        grace > 0 ? await this.repository.reissueWithinGrace({ ...input, graceSeconds: grace }) : undefined;
      if (reissued) {
        const issued = await this.issued(client, reissued, successor, requestedScope, dpop);
        return { ...issued, details: { grace_reuse: true } };
      }
      await this.refuse(client, tokenHash, params.scopes, dpop);
    }
    // Changed under our feet twice (concurrent rotation and revocation): refuse without guessing.
    throw grantError('the refresh token is invalid', 'refresh_unknown');
  }

  private async issued(
    client: AuthenticatableClient,
    row: GrantTokensRow,
    refreshToken: string,
    requestedScope: string | null,
    dpop: VerifiedDpopProof | undefined,
  ): Promise<IssuedTokens> {
    const scope = requestedScope ?? row.scope;
    const { accessToken, expiresIn } = await this.issuer.issue({
      subject: row.user_id!,
      clientId: client.clientId,
      scope,
      grantId: row.grant_id,
      grantType: 'refresh_token',
      jkt: dpop?.jkt,
    });
    // OIDC Core §12.2: a fresh id_token for a grant with openid; same sub, auth_time, sid and nonce
    const idToken = await this.idTokens.issue({
      userId: row.user_id!,
      clientId: client.clientId,
      scope: row.scope,
      grantId: row.grant_id,
      nonce: row.nonce,
      authTime: row.auth_time,
      sid: row.sid,
      grantType: 'refresh_token',
      profile: profileOf(row),
    });
    return {
      subject: row.user_id!,
      grantId: row.grant_id,
      body: {
        access_token: accessToken,
        token_type: tokenTypeFor(dpop),
        expires_in: expiresIn,
        scope,
        refresh_token: refreshToken,
        ...(idToken !== undefined ? { id_token: idToken } : {}),
      },
    };
  }

  /** Throws the precise refusal; returns only if nothing explains it (then the caller retries once). */
  private async refuse(
    client: AuthenticatableClient,
    tokenHash: string,
    scopes: string[] | undefined,
    dpop: VerifiedDpopProof | undefined,
  ): Promise<void> {
    const grace = this.oauth.refreshReuseGrace;
    const state = await this.repository.refreshTokenState(tokenHash, grace);
    if (!state) throw grantError('the refresh token is invalid', 'refresh_unknown');
    if (state.client_id !== client.clientId) {
      throw grantError('the refresh token was issued to another client', 'refresh_client_mismatch');
    }
    // RFC 9449 §5: a bound refresh token without a proof of its key is useless to whoever holds it; checked
    // before reuse, so that a thief without the key cannot revoke the grant either
    if (state.dpop_jkt !== null && state.dpop_jkt !== dpop?.jkt) {
      throw grantError(
        dpop
          ? 'the DPoP proof is signed by another key than the refresh token is bound to'
          : 'this refresh token is DPoP-bound: a DPoP proof of its key is required',
        'dpop_key_mismatch',
        { bound: 'refresh_token' },
      );
    }
    if (state.rotated_at && !(grace > 0 && state.in_grace)) {
      // RFC 9700 §4.14.2: reuse of a rotated token means it leaked; revoke the whole grant.
      const details = await this.revocations.revokeForAbuse({
        target: { grantId: state.grant_id },
        cause: 'refresh_reused',
        clientId: client.clientId,
        grantType: this.grantType,
      });
      throw new TokenRequestError(
        'invalid_grant',
        'the refresh token has already been used; the grant is revoked',
        'refresh_reused',
        details,
        true,
      );
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
