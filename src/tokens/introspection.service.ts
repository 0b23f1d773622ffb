import { Inject, Injectable } from '@nestjs/common';
import type { AuthenticatableClient } from '../clients/clients.service';
import { sha256Hex } from '../common/crypto';
import { AuditEmitter } from '../events/events';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { AccessTokenVerifier } from '../keys/access-token.verifier';
import type { TokenLookupParams } from './protocol-request.guards';
import { looksLikeJwt, looksLikeRefreshToken, lookupOrder, type TokenKind } from './token-shapes';
import { IntrospectionRepository } from './introspection.repository';
import { TokensRepository } from './tokens.repository';

/** RFC 7662 §2.2 response. */
export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      sub: string;
      exp: number;
      iat: number;
      token_type: 'Bearer' | 'DPoP' | 'refresh_token';
      iss: string;
      aud: string | string[];
      jti: string;
      /** RFC 9449 §6.2 */
      cnf?: { jkt: string };
    };

/**
 * POST /oauth/introspect (RFC 7662), for confidential clients (resource servers): any of them may introspect
 * any token this issuer issued. Access tokens: signature and claims in memory, then one statement that reads the
 * revocation state (grant revoked, client disabled/deleted, jti revoked) and writes the request's
 * `token.introspected` (IntrospectionRepository). Refresh tokens: one query by hash.
 * Anything else — expired, revoked, rotated, unknown, malformed, foreign — is just `{"active": false}`.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly repository: TokensRepository,
    private readonly introspections: IntrospectionRepository,
    private readonly verifier: AccessTokenVerifier,
    private readonly audit: AuditEmitter,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  async introspect(
    client: AuthenticatableClient,
    request: TokenLookupParams,
  ): Promise<IntrospectionResponse> {
    let response: IntrospectionResponse = { active: false };
    let kind: TokenKind | null = null;
    for (const candidate of lookupOrder(request.token, request.hint)) {
      if (candidate === 'access_token') {
        // a JWT whose state was read: that statement answered and wrote the event (a JWT is never a refresh token)
        const decided = await this.accessToken(client, request.token);
        if (decided) return decided;
        continue;
      }
      const found = await this.refreshToken(request.token);
      if (found) {
        response = found;
        kind = candidate;
        break;
      }
    }
    await this.audit.record({
      type: 'token.introspected',
      outcome: 'success',
      clientId: client.clientId,
      details: { active: response.active, ...(kind ? { token_type: kind } : {}) },
    });
    return response;
  }

  /**
   * Signature and claims in memory, then one statement that reads the revocation state and writes the request's
   * `token.introspected` (staged) with the answer. Null when the token fails before its state is read (not this
   * server's JWT): the caller goes on, and records the event itself.
   */
  private async accessToken(
    client: AuthenticatableClient,
    token: string,
  ): Promise<IntrospectionResponse | null> {
    if (!looksLikeJwt(token)) return null;
    const verified = await this.verifier.verifySignature(token);
    if (!verified.ok) return null;
    const claims = verified.claims;
    const staged = await this.audit.stage({
      type: 'token.introspected',
      outcome: 'success',
      clientId: client.clientId,
      details: {},
    });
    const state = await this.introspections
      .accessTokenActive(claims.gid, claims.jti, staged.row)
      .catch((err: unknown) => {
        staged.discard(); // the statement failed: nothing of it was stored
        throw err;
      });
    if (!state.written) {
      staged.discard();
      return null;
    }
    await this.audit.recordStaged(staged, {
      details: state.active ? { active: true, token_type: 'access_token' } : { active: false },
    });
    if (!state.active) return { active: false };
    return {
      active: true,
      scope: claims.scope,
      client_id: claims.client_id,
      sub: claims.sub,
      exp: claims.exp,
      iat: claims.iat,
      // RFC 9449 §6.2: a bound token introspects as DPoP with its confirmation
      token_type: claims.cnf ? 'DPoP' : 'Bearer',
      iss: claims.iss,
      aud: claims.aud,
      jti: claims.jti,
      ...(claims.cnf ? { cnf: { jkt: claims.cnf.jkt } } : {}),
    };
  }

  private async refreshToken(token: string): Promise<IntrospectionResponse | null> {
    if (!looksLikeRefreshToken(token)) return null;
    const hash = sha256Hex(token);
    const row = await this.repository.activeRefreshToken(hash);
    if (!row) return null;
    return {
      active: true,
      scope: row.scope,
      client_id: row.client_id,
      sub: row.user_id ?? row.client_id,
      exp: row.exp,
      iat: row.iat,
      token_type: 'refresh_token',
      iss: this.oauth.issuer,
      aud: this.oauth.issuer, // refresh tokens are presented only to this server
      jti: hash, // a stable identifier of the token that does not reveal it
    };
  }
}
