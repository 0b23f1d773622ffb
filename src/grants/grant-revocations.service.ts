import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditEmitter } from '../events/events';
import { GrantsRepository, type RevokedGrantRow } from './grants.repository';

export type { RevokedGrantRow } from './grants.repository';

/** Why a grant was revoked (the grant.revoked event's `cause`, and the grants.revoke_cause column). */
export type GrantRevokeCause =
  | 'code_replayed'
  | 'refresh_reused'
  | 'revocation_request'
  | 'admin'
  | 'client_deleted'
  | 'user_disabled'
  | 'user_deleted'
  | 'password_changed'
  | (string & {});

/** The input of a revocation for a detected attack on a grant (code replay, refresh token reuse). */
export interface AbuseRevocation {
  /** the grant to revoke: by id, or the one a code produced */
  target: { grantId: string } | { codeHash: string };
  cause: 'code_replayed' | 'refresh_reused';
  clientId: string;
  grantType: string;
  details?: Record<string, unknown>;
}

/**
 * Grant revocations and their one event, grant.revoked (docs/audit-events.md), written in the revocation's
 * transaction: an event that must be atomic with a state change commits with it. Inside a transaction only its
 * EntityManager is used (PGlite serialises transactions on one connection).
 */
@Injectable()
export class GrantRevocations {
  constructor(
    private readonly grants: GrantsRepository,
    private readonly audit: AuditEmitter,
  ) {}

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.grants.transaction(work);
  }

  /** Revokes one grant and its refresh tokens, without auditing yet (the caller's event comes first). */
  revokeGrant(grantId: string, cause: GrantRevokeCause, manager: EntityManager): Promise<RevokedGrantRow[]> {
    return this.grants.revokeGrant(grantId, cause, manager);
  }

  /** Remembers a revoked access token (RFC 7009 §2.1); its grant stays live. */
  revokeAccessToken(jti: string, grantId: string | null, expiresAtEpoch: number, manager: EntityManager) {
    return this.grants.revokeAccessToken(jti, grantId, expiresAtEpoch, manager);
  }

  /** Revokes every live grant of a client and audits each (client disabled, narrowed or deleted). */
  async revokeClientGrants(
    clientId: string,
    cause: GrantRevokeCause,
    actor: string,
    manager: EntityManager,
  ): Promise<RevokedGrantRow[]> {
    const revoked = await this.grants.revokeClientGrants(clientId, cause, manager);
    await this.auditRevoked(manager, revoked, cause, actor);
    return revoked;
  }

  /** Revokes every live grant of a user (to one client, when given) and audits each. */
  async revokeUserGrants(
    userId: string,
    clientId: string | null,
    cause: GrantRevokeCause,
    actor: string,
    manager: EntityManager,
  ): Promise<RevokedGrantRow[]> {
    const revoked = await this.grants.revokeUserGrants(userId, clientId, cause, manager);
    await this.auditRevoked(manager, revoked, cause, actor);
    return revoked;
  }

  /**
   * A detected attack on a grant: revokes it and records token.request_failed and grant.revoked in one
   * transaction. Returns the failure's details; the caller then refuses the request (already audited).
   */
  async revokeForAbuse(input: AbuseRevocation): Promise<Record<string, unknown>> {
    const details = { grant_type: input.grantType, reason: input.cause, ...input.details };
    await this.grants.transaction(async (manager) => {
      const revoked =
        'codeHash' in input.target
          ? await this.grants.revokeGrantOfCode(input.target.codeHash, input.cause, manager)
          : await this.grants.revokeGrant(input.target.grantId, input.cause, manager);
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
    return details;
  }

  /**
   * grant.revoked, once per grant actually revoked, in `manager`'s transaction. The subject is the grant's user;
   * a client_credentials grant has the client itself as subject.
   */
  async auditRevoked(
    manager: EntityManager,
    rows: RevokedGrantRow[],
    cause: GrantRevokeCause,
    actor?: string,
  ): Promise<void> {
    for (const row of rows) {
      await this.audit.record({
        type: 'grant.revoked',
        outcome: 'success',
        clientId: row.client_id,
        subject: row.user_id ?? row.client_id,
        details: actor === undefined ? { grant_id: row.id, cause } : { grant_id: row.id, cause, actor },
        manager,
      });
    }
  }
}
