import { Injectable } from '@nestjs/common';
import { ConsentsRepository } from './consents.repository';

/** A user's remembered consents, as the authorization endpoint asks for and records them. */
@Injectable()
export class ConsentsService {
  constructor(private readonly consents: ConsentsRepository) {}

  /** The scopes the user has allowed the client so far (space-separated), if any. */
  findScope(userId: string, clientId: string): Promise<string | undefined> {
    return this.consents.findScope(userId, clientId);
  }

  /** Adds scopes to the user's consent for the client (concurrent approvals merge). */
  grant(userId: string, clientId: string, scope: string): Promise<void> {
    return this.consents.grant(userId, clientId, scope);
  }
}
