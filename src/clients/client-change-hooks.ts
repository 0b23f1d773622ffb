import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** What a narrowed or disabled client's change voids in the module that issues codes (above this one). */
export interface PendingAuthorizationsVoider {
  /**
   * Deletes the client's unconsumed authorization codes, in the change's transaction `manager` (what they were
   * issued for may no longer hold). Returns how many. (Pending requests are checked when the user decides.)
   */
  voidPendingAuthorizations(clientId: string, manager: EntityManager): Promise<{ codes: number }>;
}

/**
 * The extension point through which a client change reaches the authorization module without importing it
 * (authorization sits above clients): AuthorizationModule registers its voider when it starts.
 */
@Injectable()
export class ClientChangeHooks {
  private voider?: PendingAuthorizationsVoider;

  registerVoider(voider: PendingAuthorizationsVoider): void {
    this.voider = voider;
  }

  voidPendingAuthorizations(clientId: string, manager: EntityManager): Promise<{ codes: number }> {
    if (!this.voider)
      throw new Error('no module registered to void pending authorizations (AuthorizationModule)');
    return this.voider.voidPendingAuthorizations(clientId, manager);
  }
}
