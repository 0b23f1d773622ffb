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
    // token.introspected is written by the access-token state statement when one runs (one commit per request)
    const staged = await this.audit.stage({
      type: 'token.introspected',
      outcome: 'success',
      clientId: client.clientId,
      details: {},
    });
    let response: IntrospectionResponse = { active: false };
    let kind: TokenKind | null = null;
    let written = false;
    try {
      for (const candidate of lookupOrder(request.token, request.hint)) {
        let found: IntrospectionResponse | null;
        if (candidate === 'access_token') {
          const checked = await this.accessToken(request.token, staged.row);
          found = checked.response;
          written = checked.written;
        } else found = await this.refreshToken(request.token);
        if (found) {
          response = found;
          kind = candidate;
          break;
        }
        if (written) break; // the state statement decided (a JWT is never a refresh token) and wrote the event
      }
    } catch (err) {
      staged.discard();
      throw err;
    }
    const details = { active: response.active, ...(kind ? { token_type: kind } : {}) };
    if (written) await this.audit.recordStaged(staged, { details });
    else {
      staged.discard();
      await this.audit.record({
        type: 'token.introspected',
        outcome: 'success',
        clientId: client.clientId,
        details,
      });
    }
    return response;
  }

  /**
   * Signature and claims in memory, then the state statement, which also writes the request's staged event
   * (`written`; not when the token failed before its state was read).
   */
  private async accessToken(
    token: string,
    event: string | null,
  ): Promise<{ response: IntrospectionResponse | null; written: boolean }> {
    if (!looksLikeJwt(token)) return { response: null, written: false };
    const verified = await this.verifier.verifySignature(token);
    if (!verified.ok) return { response: null, written: false };
    const claims = verified.claims;
    const { active, written } = await this.introspections.accessTokenActive(claims.gid, claims.jti, event);
    if (!active) return { response: null, written };
    return {
      written,
      response: {
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
      },
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
