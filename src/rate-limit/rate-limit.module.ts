import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ClientRateLimit } from './client-rate-limit.service';
import { RateLimitGuard } from './rate-limit.guard';
import { SharedCounterStorage } from './shared-counter.storage';

/**
 * Rate limiting: per IP on the protocol routes, pages and APIs (a global guard), per authenticated client on
 * the protocol routes (ClientRateLimit, called by client authentication); counters shared by every instance.
 */
@Module({
  providers: [SharedCounterStorage, ClientRateLimit, { provide: APP_GUARD, useClass: RateLimitGuard }],
  exports: [SharedCounterStorage, ClientRateLimit],
})
export class RateLimitModule {}
