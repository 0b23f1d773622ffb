import type { HealthIndicatorResult } from '@nestjs/terminus';

/** How old a successful database ping may be for /health/ready to answer from it. */
export const READINESS_PING_MAX_AGE_MS = 1000;

/**
 * The database ping of `GET /health/ready`, shared by every caller: a successful ping younger than `maxAgeMs`
 * answers at once (and once it is half that age, one new ping starts in the background); an older or failed one
 * means the caller waits for a fresh ping, itself shared by everyone waiting. So the endpoint — unauthenticated,
 * polled by load balancers, and free for anyone to flood — costs the database at most about two pings a second
 * whatever its traffic, and a probe does not queue behind a long statement (on the embedded database, a report
 * holds the one connection); an outage still shows within `maxAgeMs` plus the ping's timeout.
 */
export class SharedPing {
  private last?: { at: number; result: HealthIndicatorResult };
  private inflight?: Promise<HealthIndicatorResult>;

  constructor(
    private readonly ping: () => Promise<HealthIndicatorResult>,
    private readonly maxAgeMs = READINESS_PING_MAX_AGE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  check(): Promise<HealthIndicatorResult> {
    const age = this.last ? this.now() - this.last.at : Number.POSITIVE_INFINITY;
    if (this.last && age < this.maxAgeMs) {
      if (age >= this.maxAgeMs / 2) void this.refresh().catch(() => undefined);
      return Promise.resolve(this.last.result);
    }
    return this.refresh();
  }

  private refresh(): Promise<HealthIndicatorResult> {
    this.inflight ??= this.ping()
      .then((result) => {
        const up = Object.values(result).every((r) => r?.status === 'up');
        this.last = up ? { at: this.now(), result } : undefined;
        return result;
      })
      .catch((error: unknown) => {
        this.last = undefined;
        throw error;
      })
      .finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}
