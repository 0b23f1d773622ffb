import { Inject, Injectable } from '@nestjs/common';
import { AuthorizationCodesService } from '../../authorization/authorization-codes.service';
import { ClientsService, type AuthenticatableClient } from '../../clients/clients.service';
import { randomToken, sha256Base64url, sha256Hex, uuidV7, verifyPkceS256 } from '../../common/crypto';
import { InvalidRequest } from '../../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../../config/config.namespaces';
import { IdTokenIssuer } from '../../oidc/id-token.issuer';
import { AccessTokenIssuer } from '../access-token.issuer';
import { GrantRevocations } from '../../grants/grant-revocations.service';
import { required, TokenRequestError, type FormParams } from '../oauth-request';
import { TokensRepository } from '../tokens.repository';
import type { VerifiedDpopProof } from '../../dpop/dpop-proof.verifier';
import type { StagedAuditEvent } from '../../events/events';
import { grantError, profileOf, tokenTypeFor, type IssuedTokens, type TokenGrant } from './token-grant';

export interface AuthorizationCodeParams {
  code: string;
  redirectUri: string;
  codeVerifier: string;
}

/** RFC 7636 §4.1: code_verifier = 43*128unreserved. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function isWellFormedVerifier(verifier: string): boolean {
  return CODE_VERIFIER.test(verifier);
}

/**
 * grant_type=authorization_code with mandatory PKCE (RFC 6749 §4.1.3, RFC 7636 §4.5-4.6, OAuth 2.1 §4.1.3).
 *
 * Order (issue 5): syntax (a malformed verifier never touches the code) → the code by hash → bound to this
 * client and redirect URI → if already used: a matching verifier is a replay that revokes the grant the code
 * produced (RFC 6749 §4.1.2), a non-matching one changes nothing (no denial of service by replay) → expired →
 * verifier (constant time; a mismatch burns the code: no online guessing) → one atomic statement consumes the
 * code, creates the grant and the refresh token and links them. Losing a concurrent exchange is a replay too.
 *
 * On the success path that order is folded into one round trip: the exchange statement itself requires the
 * code unused, unexpired, this client's, for this redirect URI and with the challenge of the verifier sent
 * (and the client enabled, the scope cut to its current registration), so no grant is ever created and
 * deleted again. Only when the statement consumes nothing does `diagnose` read the code to tell which rule
 * failed (and burn it on a verifier mismatch).
 */
@Injectable()
export class AuthorizationCodeGrant implements TokenGrant<AuthorizationCodeParams> {
  readonly grantType = 'authorization_code' as const;
  /** the exchange statement writes `token.issued` (one commit for the request) */
  readonly writesIssuedEvent = true;

  constructor(
    private readonly codes: AuthorizationCodesService,
    private readonly repository: TokensRepository,
    private readonly revocations: GrantRevocations,
    private readonly issuer: AccessTokenIssuer,
    private readonly idTokens: IdTokenIssuer,
    private readonly clients: ClientsService,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  parse(params: FormParams): AuthorizationCodeParams {
    const code = required(params, 'code');
    const redirectUri = required(params, 'redirect_uri');
    const codeVerifier = params.code_verifier;
    if (codeVerifier === undefined) {
      throw new InvalidRequest('parameter code_verifier is required (PKCE)', 'pkce_verifier_malformed');
    }
    if (!isWellFormedVerifier(codeVerifier)) {
      throw new InvalidRequest(
        'code_verifier must be 43 to 128 characters of [A-Za-z0-9._~-]',
        'pkce_verifier_malformed',
      );
    }
    return { code, redirectUri, codeVerifier };
  }

  async exchange(
    client: AuthenticatableClient,
    params: AuthorizationCodeParams,
    dpop?: VerifiedDpopProof,
    issuedEvent?: StagedAuditEvent,
  ): Promise<IssuedTokens> {
    const codeHash = sha256Hex(params.code);
    const withRefresh = client.grantTypes.includes('refresh_token');
    const refreshToken = withRefresh ? randomToken() : null;
    // time-ordered: the grant's row and its refresh token's grant_id index entry go to their indexes' right edge
    const grantId = uuidV7();
    // The success path is one statement: it consumes the code only if it is unused, unexpired, this client's,
    // for this redirect URI and this verifier (RFC 7636 §4.6: S256 of the verifier equals the challenge), and
    // the client is still enabled with some of the code's scope. Anything else → diagnose() says why; a
    // mismatch therefore never commits a grant.
    const created = await this.repository.exchangeCode({
      codeHash,
      grantId,
      clientId: client.clientId,
      redirectUri: params.redirectUri,
      codeChallenge: sha256Base64url(params.codeVerifier),
      grantTtlSeconds: withRefresh ? this.oauth.refreshTokenTtl : this.oauth.accessTokenTtl,
      refreshHash: refreshToken === null ? null : sha256Hex(refreshToken),
      proofJkt: dpop?.jkt ?? null,
      // RFC 9449 §5: a public client's refresh token is bound to its DPoP key; a confidential client's is not
      refreshJkt: client.isPublic && dpop ? dpop.jkt : null,
      issuedEvent: issuedEvent?.row ?? null,
    });
    if (!created) {
      issuedEvent?.discard(); // before the refusal records its own events
      return this.diagnose(codeHash, client, params, dpop);
    }
    const { accessToken, expiresIn } = await this.issuer.issue({
      subject: created.user_id!,
      clientId: client.clientId,
      scope: created.scope,
      grantId: created.grant_id,
      grantType: 'authorization_code',
      jkt: dpop?.jkt,
    });
    // OIDC Core §3.1.3.3: with the openid scope, an id_token (nonce, auth_time and sid from the login)
    const idToken = await this.idTokens.issue({
      userId: created.user_id!,
      clientId: client.clientId,
      scope: created.scope,
      grantId: created.grant_id,
      nonce: created.nonce,
      authTime: created.auth_time,
      sid: created.sid,
      grantType: 'authorization_code',
      profile: profileOf(created),
    });
    return {
      subject: created.user_id!,
      grantId: created.grant_id,
      issuedEventWritten: issuedEvent !== undefined,
      body: {
        access_token: accessToken,
        token_type: tokenTypeFor(dpop),
        expires_in: expiresIn,
        scope: created.scope,
        ...(refreshToken !== null ? { refresh_token: refreshToken } : {}),
        ...(idToken !== undefined ? { id_token: idToken } : {}),
      },
    };
  }

  /**
   * Why the exchange statement consumed nothing (failure path), in the order of the class comment. Losing a
   * concurrent exchange shows up here as an already consumed code, i.e. a replay.
   */
  private async diagnose(
    codeHash: string,
    client: AuthenticatableClient,
    params: AuthorizationCodeParams,
    dpop: VerifiedDpopProof | undefined,
  ): Promise<never> {
    const row = await this.codes.findByCode(params.code);
    if (!row) throw grantError('the authorization code is invalid', 'code_unknown');
    if (row.clientId !== client.clientId) {
      throw grantError('the authorization code was issued to another client', 'code_client_mismatch');
    }
    // RFC 6749 §4.1.3: identical to the authorization request's redirect_uri (string equality, port included)
    if (row.redirectUri !== params.redirectUri) {
      throw grantError('redirect_uri does not match the authorization request', 'code_redirect_uri_mismatch');
    }
    // RFC 9449 §10: a code bound at PAR is exchanged only with a proof of that key (nothing is burned: the
    // caller does not hold the key, so cannot be the client)
    if (row.dpopJkt !== null && row.dpopJkt !== dpop?.jkt) {
      throw grantError(
        dpop
          ? 'the DPoP proof is signed by another key than the code is bound to'
          : 'this code needs a DPoP proof',
        'dpop_key_mismatch',
        { bound: 'code' },
      );
    }
    const verifierMatches = verifyPkceS256(params.codeVerifier, row.codeChallenge);
    if (row.consumed) {
      if (!verifierMatches) {
        throw grantError('the code_verifier does not match', 'pkce_verifier_mismatch', {
          code_state: 'consumed',
        });
      }
      return this.replayed(codeHash, client);
    }
    if (row.expiresAt.getTime() <= Date.now()) {
      throw grantError('the authorization code has expired', 'code_expired');
    }
    if (verifierMatches) {
      // the statement refused a valid code: its client was disabled or lost every scope of it meanwhile (the
      // change deletes such codes; this is the race with it) — or the database's clock already expired it
      const current = await this.clients.findEnabled(client.clientId, { fresh: true });
      const scopes = current?.scopes ?? [];
      const voided = !current || (row.scope !== '' && !row.scope.split(' ').some((s) => scopes.includes(s)));
      if (!voided) throw grantError('the authorization code has expired', 'code_expired');
      await this.codes.consume(codeHash);
      throw grantError('the authorization code is no longer valid for this client', 'code_revoked');
    }
    // burn the code: a guessed verifier gets no second try
    const burned = await this.codes.consume(codeHash);
    throw grantError('the code_verifier does not match', 'pkce_verifier_mismatch', {
      code_state: burned ? 'unused' : 'consumed',
    });
  }

  /** RFC 6749 §4.1.2: a used code presented again (valid client, matching verifier) revokes its grant. */
  private async replayed(codeHash: string, client: AuthenticatableClient): Promise<never> {
    const details = await this.revocations.revokeForAbuse({
      target: { codeHash },
      cause: 'code_replayed',
      clientId: client.clientId,
      grantType: this.grantType,
    });
    throw new TokenRequestError(
      'invalid_grant',
      'the authorization code has already been used; its tokens are revoked',
      'code_replayed',
      details,
      true,
    );
  }
}
