import { Inject, Injectable } from '@nestjs/common';
import { SlowDown } from '../common/oauth-errors';
import { RefusalAuditor } from '../events/refusal-auditor';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { SharedCounterStorage } from './shared-counter.storage';

/**
 * The per-client limit of token, revocation and introspection (RATE_LIMIT_TOKEN per RATE_LIMIT_WINDOW), which
 * counts a request against a client only once that client authenticated (docs/abuse-protection.md):
 * - a confidential client after its secret matched: `charge(id, route)`;
 * - a public client proves nothing by naming its id, so it counts only for a request carrying a valid code or
 *   refresh token of its own: `check(id, route)` before the grant (refuses when the allowance is used up, counts
 *   nothing), `charge(id, route, { refuse: false })` once the grant succeeded.
 * Naming someone else's client_id therefore never uses up that client's allowance.
 */
@Injectable()
export class ClientRateLimit {
  constructor(
    private readonly counters: SharedCounterStorage,
    private readonly refusals: RefusalAuditor,
    @Inject(abuseConfig.KEY) private readonly config: AbuseConfig,
  ) {}

  async charge(clientId: string, route: string, options = { refuse: true }): Promise<void> {
    const { totalHits, timeToExpire } = this.counters.increment(keyOf(clientId), this.windowMs);
    if (options.refuse && totalHits > this.config.rateLimitToken)
      await this.refuse(clientId, route, timeToExpire);
  }

  async check(clientId: string, route: string): Promise<void> {
    const { totalHits, timeToExpire } = this.counters.peek(keyOf(clientId), this.windowMs);
    if (totalHits >= this.config.rateLimitToken) await this.refuse(clientId, route, timeToExpire);
  }

  private get windowMs(): number {
    return this.config.rateLimitWindow * 1000;
  }

  private async refuse(clientId: string, route: string, retryAfter: number): Promise<never> {
    await this.refusals.record(keyOf(clientId), this.windowMs, {
      type: 'request.rate_limited',
      outcome: 'failure',
      errorCode: 'slow_down',
      reason: 'rate_limited',
      clientId,
      details: { route, limit: 'client' },
    });
    throw new SlowDown(retryAfter);
  }
}

function keyOf(clientId: string): string {
  return `p:client:${clientId}`;
}
