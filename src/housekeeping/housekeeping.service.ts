import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AuthorizationPurge } from '../authorization/authorization.purge';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { DpopPurge } from '../dpop/dpop.purge';
import { GrantsPurge } from '../grants/grants.purge';
import { RateLimitPurge } from '../rate-limit/rate-limit.purge';
import { TokensPurge } from '../tokens/tokens.purge';
import { UsersPurge } from '../users/users.purge';

/**
 * What expires is purged every 5 minutes, on every instance: housekeeping asks each module to purge its own
 * tables (ExpiredRowsPurge; it knows no table itself). Each deletes in small batches (no long locks; concurrent
 * runs are harmless) and keeps rows a little past expiry where replays of just-expired codes or tokens must
 * still be recognised. Grants come after the tokens that reference them.
 */
@Injectable()
export class HousekeepingService {
  private readonly logger = new Logger('Housekeeping');
  private running = false;
  private readonly modules: ExpiredRowsPurge[];

  constructor(
    authorization: AuthorizationPurge,
    users: UsersPurge,
    tokens: TokensPurge,
    grants: GrantsPurge,
    rateLimit: RateLimitPurge,
    dpop: DpopPurge,
  ) {
    this.modules = [authorization, users, tokens, grants, rateLimit, dpop];
  }

  @Interval(5 * 60_000)
  async scheduled(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.purgeExpired();
    } catch (err) {
      this.logger.warn(`purge failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /**
   * Every module's expired rows, module by module; each table that lost rows is VACUUMed at once, so that a
   * flood of pending requests does not leave a table that only grows (issue 20, finding 3). Returns the counts
   * per table.
   */
  async purgeExpired(): Promise<PurgeCounts> {
    const counts: PurgeCounts = {};
    for (const module of this.modules) Object.assign(counts, await module.purgeExpired());
    return counts;
  }
}
