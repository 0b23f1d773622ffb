import { Module } from '@nestjs/common';
import { AuthorizationModule } from '../authorization/authorization.module';
import { DpopModule } from '../dpop/dpop.module';
import { GrantsModule } from '../grants/grants.module';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { TokensModule } from '../tokens/tokens.module';
import { UsersModule } from '../users/users.module';
import { HousekeepingService } from './housekeeping.service';

/** Scheduled purge of expired codes, sessions, tokens and counters: each module purges its own tables. */
@Module({
  imports: [AuthorizationModule, UsersModule, TokensModule, GrantsModule, RateLimitModule, DpopModule],
  providers: [HousekeepingService],
  exports: [HousekeepingService],
})
export class HousekeepingModule {}
