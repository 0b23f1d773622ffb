import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEmitter } from '../events/events';
import { TokenRequestError } from './oauth-request';
import { TokensRepository, type RevokedGrantRow } from './tokens.repository';

export type GrantRevokeCause = 'code_replayed' | 'refresh_reused' | 'revocation_request';

/**
 * Grant revocations with their audit events in the same transaction (EVENTS.md: events that must be atomic
 * with a state change are written through that change's transaction). Inside the transaction only its
 * EntityManager is used (PGlite serialises transactions on one connection).
 */
@Injectable()
export class GrantRevocations {
  constructor(
    private readonly repository: TokensRepository,
    private readonly audit: AuditEmitter,
  ) {}

  /** Audits grants revoked in `manager`'s transaction (grant.revoked, once per grant actually revoked). */
  async auditRevoked(
    manager: EntityManager,
    rows: RevokedGrantRow[],
    cause: GrantRevokeCause,
  ): Promise<void> {
    for (const row of rows) {
      await this.audit.record({
        type: 'grant.revoked',
        outcome: 'success',
        clientId: row.client_id,
        subject: row.user_id ?? row.client_id,
        details: { grant_id: row.id, cause },
        manager,
      });
    }
  }

  /**
   * A detected attack on a grant (code replay, refresh token reuse): revokes the grant and records the
   * token.request_failed event and grant.revoked in one transaction, then throws invalid_grant (already audited).
   */
  async revokeForAbuse(input: {
    revoke: (manager: EntityManager) => Promise<RevokedGrantRow[]>;
    cause: 'code_replayed' | 'refresh_reused';
    clientId: string;
    grantType: string;
    description: string;
    details?: Record<string, unknown>;
  }): Promise<never> {
    const details = { grant_type: input.grantType, reason: input.cause, ...input.details };
    await this.repository.transaction(async (manager) => {
      const revoked = await input.revoke(manager);
      await this.audit.record({
        type: 'token.request_failed',
        outcome: 'failure',
        errorCode: 'invalid_grant',
        reason: input.cause,
        clientId: input.clientId,
        details: { ...details, grant_id: revoked[0]?.id ?? null },
        manager,
      });
      await this.auditRevoked(manager, revoked, input.cause);
    });
    throw new TokenRequestError('invalid_grant', input.description, input.cause, details, true);
  }
}
