import { Module } from '@nestjs/common';
import { GrantsPurge } from './grants.purge';
import { GrantRevocations } from './grant-revocations.service';
import { GrantsRepository } from './grants.repository';
import { GrantsService } from './grants.service';

/**
 * The one owner of the `grants` and `revoked_access_tokens` tables and of grant revocation (with its
 * grant.revoked event). Below clients, users, keys and tokens, which import it; it imports no feature.
 */
@Module({
  providers: [GrantsPurge, GrantsRepository, GrantsService, GrantRevocations],
  exports: [GrantsPurge, GrantsService, GrantRevocations],
})
export class GrantsModule {}
