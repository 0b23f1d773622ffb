import { Injectable } from '@nestjs/common';
import { GrantsRepository, type UserGrantRow } from './grants.repository';

export type { UserGrantRow } from './grants.repository';

/** Grants as the other modules use them: creating client_credentials grants, liveness, a user's grants. */
@Injectable()
export class GrantsService {
  constructor(private readonly grants: GrantsRepository) {}

  /** A client_credentials grant: one per issuance, expiring with its access token. */
  insertClientGrant(input: { grantId: string; clientId: string; scope: string; ttlSeconds: number }) {
    return this.grants.insertClientGrant(input);
  }

  /** The grant is live, its client and user enabled, and this access token (jti) not revoked. */
  accessTokenActive(grantId: string, jti: string): Promise<boolean> {
    return this.grants.accessTokenActive(grantId, jti);
  }

  /** One page of the clients a user granted access to, ordered by client_id. */
  listForUser(userId: string, limit: number, afterClientId: string | null): Promise<UserGrantRow[]> {
    return this.grants.listForUser(userId, limit, afterClientId);
  }
}
