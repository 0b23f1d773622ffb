import { Injectable } from '@nestjs/common';
import { LockoutsRepository, type LockoutPolicy } from './lockouts.repository';

export type { LockoutPolicy } from './lockouts.repository';

/** Lockout counters shared by every instance: login attempts per username, client authentication per (client, IP). */
@Injectable()
export class Lockouts {
  constructor(private readonly lockouts: LockoutsRepository) {}

  /** Login: counts an attempt before its password is checked (see LockoutsRepository.beginAttempt). */
  beginAttempt(key: string, policy: LockoutPolicy): Promise<{ admitted: boolean; locked: boolean }> {
    return this.lockouts.beginAttempt(key, policy);
  }

  /** Login: a failed attempt's verdict; returns the lock's end when this failure locked the key. */
  recordFailure(key: string, policy: LockoutPolicy): Promise<Date | undefined> {
    return this.lockouts.recordFailure(key, policy);
  }

  /** Login: a success forgets the key's failures. */
  reset(key: string): Promise<void> {
    return this.lockouts.reset(key);
  }

  /** Client authentication: true while the (client_id, IP) key is locked out. */
  isClientLocked(key: string): Promise<boolean> {
    return this.lockouts.isClientLocked(key);
  }

  /** Client authentication: counts one failure; reaching `limit` locks the key for `windowSeconds`. */
  recordClientFailure(key: string, limit: number, windowSeconds: number) {
    return this.lockouts.recordClientFailure(key, limit, windowSeconds);
  }
}
