import { Module } from '@nestjs/common';
import { HousekeepingService } from './housekeeping.service';

/** Scheduled purge of expired codes, sessions, tokens and counters (issue 8 §7). */
@Module({ providers: [HousekeepingService], exports: [HousekeepingService] })
export class HousekeepingModule {}
