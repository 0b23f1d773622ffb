import { Inject, Injectable } from '@nestjs/common';
import { AuditEmitter } from '../events/events';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { PasswordCheckGate, type GateOutcome, type GateRefusal } from './password-check-gate';

/** Who asks for a password check: the client IP (fair queueing) and whether the client is still there. */
export interface PasswordCheckCaller {
  ip: string;
  isGone: () => boolean;
}

/**
 * The process-wide bound on password checks (PasswordCheckGate with LOGIN_CONCURRENCY, LOGIN_QUEUE and
 * LOGIN_BUDGET per RATE_LIMIT_WINDOW). A refusal is audited as `request.rate_limited` (route /login, `limit`
 * `login_capacity` or `login_budget`) at most once per limit and window, so a flood writes one row, not one per
 * request.
 */
/** Failed password checks from one IP in a window after which its further checks wait behind other IPs'. */
export const SUSPECT_IP_FAILURES = 1;
/** IPs whose failures are remembered at most (the least recently failing are forgotten beyond). */
export const SUSPECT_IP_MAX_KEYS = 10_000;

@Injectable()
export class PasswordCheckLimiter {
  readonly gate: PasswordCheckGate;
  /** failed checks per IP in the current window, least recently failing first */
  private readonly failures = new Map<string, { windowStart: number; count: number }>();
  private readonly lastAudited = new Map<GateRefusal['refused'], number>();
  private readonly windowMs: number;

  constructor(
    @Inject(abuseConfig.KEY) config: AbuseConfig,
    private readonly audit: AuditEmitter,
  ) {
    this.windowMs = config.rateLimitWindow * 1000;
    this.gate = new PasswordCheckGate({
      concurrency: config.loginConcurrency,
      queue: config.loginQueue,
      budget: config.loginBudget,
      windowMs: this.windowMs,
      isSuspect: (ip) => this.suspect(ip),
    });
  }

  /**
   * Runs `work` (a password check) within the bound. `failed` tells whether its result is a failed login (a
   * client gone before its turn counts as one too). An IP with SUSPECT_IP_FAILURES failures in the window has
   * its further checks wait behind other IPs' (the gate's `suspect` entries), so that a flood of failing logins barely delays a login from anywhere else.
   * Every failure counts the same (an unknown username is not told apart: that would make the queueing an
   * oracle for which usernames exist); a user who mistyped is served after the clean IPs, still fairly among
   * the others, and only while checks are queueing at all.
   */
  async run<T>(
    caller: PasswordCheckCaller,
    work: () => Promise<T>,
    failed: (value: T) => boolean = () => false,
  ): Promise<GateOutcome<T>> {
    const outcome = await this.gate.run(caller.ip, caller.isGone, work, this.suspect(caller.ip));
    // a client that left before its check ran counts as a failure: browsers do not abandon a sign-in within
    // moments, a flood of abandoned POSTs (the cheapest way to queue password checks) does
    if (outcome.ran ? failed(outcome.value) : 'gone' in outcome) this.noteFailure(caller.ip);
    if (!outcome.ran && 'refused' in outcome) await this.audited(outcome);
    return outcome;
  }

  private suspect(ip: string): boolean {
    const entry = this.failures.get(ip);
    return !!entry && entry.windowStart === this.windowOf(Date.now()) && entry.count >= SUSPECT_IP_FAILURES;
  }

  private noteFailure(ip: string): void {
    const windowStart = this.windowOf(Date.now());
    const entry = this.failures.get(ip);
    this.failures.delete(ip); // re-inserted last: the map stays in least-recently-failing order
    this.failures.set(ip, {
      windowStart,
      count: (entry && entry.windowStart === windowStart ? entry.count : 0) + 1,
    });
    if (this.failures.size > SUSPECT_IP_MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  private windowOf(now: number): number {
    return Math.floor(now / this.windowMs) * this.windowMs;
  }

  private async audited(refusal: GateRefusal): Promise<void> {
    const now = Date.now();
    const last = this.lastAudited.get(refusal.refused);
    if (last !== undefined && now - last < this.windowMs) return;
    this.lastAudited.set(refusal.refused, now);
    await this.audit.record({
      type: 'request.rate_limited',
      outcome: 'failure',
      errorCode: 'temporarily_unavailable',
      reason: 'rate_limited',
      details: {
        route: '/login',
        limit: refusal.refused === 'busy' ? 'login_capacity' : 'login_budget',
      },
    });
  }
}
