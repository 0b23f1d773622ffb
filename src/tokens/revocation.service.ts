import { Injectable } from '@nestjs/common';
import type { AuthenticatableClient } from '../clients/clients.service';
import { sha256Hex } from '../common/crypto';
import { AuditEmitter } from '../events/events';
import { AccessTokenVerifier } from '../keys/access-token.verifier';
import { GrantRevocations } from '../grants/grant-revocations.service';
import type { TokenLookupParams } from './protocol-request.guards';
import { looksLikeJwt, looksLikeRefreshToken, lookupOrder, type TokenKind } from './token-shapes';
import { TokensRepository } from './tokens.repository';

type Outcome = 'revoked' | 'foreign' | 'not_found';

/**
 * POST /oauth/revoke (RFC 7009). A client revokes only its own tokens; unknown tokens and other clients'
 * tokens get the same 200 and nothing happens (RFC 7009 §2.2), audited as token.revocation_failed.
 * - refresh token → its whole grant (and so every access token of it) is revoked (RFC 7009 §2.1);
 * - access token → its jti is remembered in revoked_access_tokens until it would have expired, after its
 *   signature and owner were checked.
 * Each revocation commits with its audit events in one transaction.
 */
@Injectable()
export class RevocationService {
  constructor(
    private readonly repository: TokensRepository,
    private readonly verifier: AccessTokenVerifier,
    private readonly revocations: GrantRevocations,
    private readonly audit: AuditEmitter,
  ) {}

  async revoke(client: AuthenticatableClient, request: TokenLookupParams): Promise<void> {
    let foreign: TokenKind | null = null;
    for (const kind of lookupOrder(request.token, request.hint)) {
      const outcome =
        kind === 'refresh_token'
          ? await this.revokeRefreshToken(client, request.token)
          : await this.revokeAccessToken(client, request.token);
      if (outcome === 'revoked') return;
      if (outcome === 'foreign') foreign = kind;
    }
    await this.audit.record({
      type: 'token.revocation_failed',
      outcome: 'failure',
      reason: foreign ? 'token_client_mismatch' : 'unknown_token',
      clientId: client.clientId,
      details: { reason: foreign ? 'token_client_mismatch' : 'unknown_token', token_type: foreign },
    });
  }

  private async revokeRefreshToken(client: AuthenticatableClient, token: string): Promise<Outcome> {
    if (!looksLikeRefreshToken(token)) return 'not_found';
    const owner = await this.repository.findRefreshOwner(sha256Hex(token));
    if (!owner) return 'not_found';
    if (owner.client_id !== client.clientId) return 'foreign';
    await this.revocations.transaction(async (manager) => {
      const revoked = await this.revocations.revokeGrant(owner.grant_id, 'revocation_request', manager);
      await this.audit.record({
        type: 'token.revoked',
        outcome: 'success',
        clientId: client.clientId,
        details: { token_type: 'refresh_token', grant_id: owner.grant_id },
        manager,
      });
      await this.revocations.auditRevoked(manager, revoked, 'revocation_request');
    });
    return 'revoked';
  }

  private async revokeAccessToken(client: AuthenticatableClient, token: string): Promise<Outcome> {
    if (!looksLikeJwt(token)) return 'not_found';
    const result = await this.verifier.verifySignature(token);
    if (!result.ok) return 'not_found'; // not ours, or expired: nothing left to revoke
    const claims = result.claims;
    if (claims.client_id !== client.clientId) return 'foreign';
    await this.revocations.transaction(async (manager) => {
      await this.revocations.revokeAccessToken(claims.jti, claims.gid, claims.exp, manager);
      await this.audit.record({
        type: 'token.revoked',
        outcome: 'success',
        clientId: client.clientId,
        subject: claims.sub,
        details: { token_type: 'access_token', grant_id: claims.gid },
        manager,
      });
    });
    return 'revoked';
  }
}
