import { Injectable } from '@nestjs/common';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { LockoutsRepository } from './lockouts.repository';
import { SharedCounterStorage } from './shared-counter.storage';

/** Housekeeping's question to the rate-limit module: the counters of past windows and forgotten lockouts. */
@Injectable()
export class RateLimitPurge implements ExpiredRowsPurge {
  constructor(
    private readonly counters: SharedCounterStorage,
    private readonly lockouts: LockoutsRepository,
  ) {}

  async purgeExpired(): Promise<PurgeCounts> {
    return {
      rate_limits: await this.counters.purgeExpired(),
      lockouts: await this.lockouts.purgeExpired(),
    };
  }
}
