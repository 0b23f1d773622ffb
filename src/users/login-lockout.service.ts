import { Inject, Injectable } from '@nestjs/common';
import { hmacHex } from '../common/crypto';
import { abuseConfig, serverConfig, type AbuseConfig, type ServerConfig } from '../config/config.namespaces';
import { LockoutPolicy, LoginLockoutsRepository } from './login-lockouts.repository';

/** Failures (and the doubling level) are forgotten after this long without an attempt. */
export const LOCKOUT_RESET_SECONDS = 12 * 3600;

/**
 * Brute-force protection per username (CONTRACT.md, Abuse protection): LOCKOUT_THRESHOLD consecutive
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
    private readonly lockouts: LoginLockoutsRepository,
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

  /** Counts an attempt; false when the username is locked (the password must then not be checked). */
  beginAttempt(key: string): Promise<boolean> {
    return this.lockouts.beginAttempt(key, this.policy);
  }

  recordFailure(key: string): Promise<Date | undefined> {
    return this.lockouts.recordFailure(key, this.policy);
  }

  reset(key: string): Promise<void> {
    return this.lockouts.reset(key);
  }
}
