import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { RateLimitGuard } from './rate-limit.guard';
import { SharedCounterStorage } from './shared-counter.storage';

/** Rate limiting on the protocol routes and pages (a global guard), counters shared by every instance. */
@Module({
  providers: [SharedCounterStorage, { provide: APP_GUARD, useClass: RateLimitGuard }],
  exports: [SharedCounterStorage],
})
export class AbuseModule {}
