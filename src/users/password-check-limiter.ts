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
@Injectable()
export class PasswordCheckLimiter {
  readonly gate: PasswordCheckGate;
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
    });
  }

  async run<T>(caller: PasswordCheckCaller, work: () => Promise<T>): Promise<GateOutcome<T>> {
    const outcome = await this.gate.run(caller.ip, caller.isGone, work);
    if (!outcome.ran && 'refused' in outcome) await this.audited(outcome);
    return outcome;
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
