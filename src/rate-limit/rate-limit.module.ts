import { Module } from '@nestjs/common';
import { RateLimitPurge } from './rate-limit.purge';
import { APP_GUARD } from '@nestjs/core';
import { ClientRateLimit } from './client-rate-limit.service';
import { LockoutsRepository } from './lockouts.repository';
import { Lockouts } from './lockouts.service';
import { RateLimitGuard } from './rate-limit.guard';
import { SharedCounterStorage } from './shared-counter.storage';

/**
 * Rate limiting: per IP on the protocol routes, pages and APIs (a global guard), per authenticated client on
 * the protocol routes (ClientRateLimit, called by client authentication); lockouts of usernames and of
 * (client, IP) pairs (Lockouts); counters shared by every instance.
 */
@Module({
  providers: [
    RateLimitPurge,
    SharedCounterStorage,
    ClientRateLimit,
    LockoutsRepository,
    Lockouts,
    { provide: APP_GUARD, useClass: RateLimitGuard },
  ],
  exports: [RateLimitPurge, SharedCounterStorage, ClientRateLimit, Lockouts],
})
export class RateLimitModule {}
