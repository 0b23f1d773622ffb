import { Inject, Injectable } from '@nestjs/common';
import { hmacHex } from '../common/crypto';
import { abuseConfig, serverConfig, type AbuseConfig, type ServerConfig } from '../config/config.namespaces';
import { Lockouts, type LockoutPolicy } from '../rate-limit/lockouts.service';

/** Failures (and the doubling level) are forgotten after this long without an attempt. */
export const LOCKOUT_RESET_SECONDS = 12 * 3600;

/** How long an attempt may wait for the verdicts of concurrent attempts on the same username. */
export const ADMISSION_WAIT_MS = 5000;

/**
 * Brute-force protection per username (docs/abuse-protection.md): LOCKOUT_THRESHOLD consecutive
 * failures lock the username for LOCKOUT_BASE, doubling with each further lock up to LOCKOUT_MAX; a
 * successful login resets it. The key is HMAC(SESSION_SECRET, normalised username), computed the same way
 * for usernames that do not exist, so a lockout never reveals whether an account exists, and the table
 * never holds what was typed.
 */
@Injectable()
export class LoginLockoutService {
  private readonly policy: LockoutPolicy;
  private readonly secret: Buffer;

  constructor(
    private readonly lockouts: Lockouts,
    @Inject(abuseConfig.KEY) abuse: AbuseConfig,
    @Inject(serverConfig.KEY) server: ServerConfig,
  ) {
    this.secret = server.sessionSecret;
    this.policy = {
      threshold: abuse.lockoutThreshold,
      baseSeconds: abuse.lockoutBase,
      maxSeconds: Math.max(abuse.lockoutMax, abuse.lockoutBase),
      resetSeconds: Math.max(LOCKOUT_RESET_SECONDS, abuse.lockoutMax * 4),
    };
  }

  /** The lockout key of a normalised username; also the audit subject of a failed login for an unknown user. */
  keyFor(usernameNormalized: string): string {
    return hmacHex(this.secret, usernameNormalized);
  }

  /**
   * Counts an attempt; false when the username is locked (the password must then not be checked).
   * At most LOCKOUT_THRESHOLD attempts of one username are checked at a time: further concurrent attempts
   * wait (up to ADMISSION_WAIT_MS) for their verdicts. So parallel guesses cannot outrun the lock, while
   * parallel logins with the right password (several tabs, a load test) all get in: each success resets.
   */
  async beginAttempt(key: string): Promise<boolean> {
    const deadline = Date.now() + ADMISSION_WAIT_MS;
    for (;;) {
      const { admitted, locked } = await this.lockouts.beginAttempt(key, this.policy);
      if (admitted) return true;
      if (locked || Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50));
    }
  }

  recordFailure(key: string): Promise<Date | undefined> {
    return this.lockouts.recordFailure(key, this.policy);
  }

  reset(key: string): Promise<void> {
    return this.lockouts.reset(key);
  }
}
