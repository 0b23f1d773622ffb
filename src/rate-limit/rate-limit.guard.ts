import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PROTOCOL_ROUTE, routePath, type HttpRequest } from '../http/http';
import { SlowDown } from '../common/oauth-errors';
import { RefusalAuditor } from '../events/refusal-auditor';
import { requestIpBucket } from '../http/request-context.hooks';
import { sentClientId } from '../http/sent-client-id';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { SharedCounterStorage } from './shared-counter.storage';

const PAGES = /^\/(oauth\/authorize|login)\/?$/;
/** The admin, audit and metrics APIs (any path under them, matched or not: a 404 costs an audit row too). */
const API = /^\/(admin|audit|metrics)(\/|$)/;

/**
 * Per-IP rate limits (docs/abuse-protection.md), counted in SharedCounterStorage (shared by all
 * instances), before anything else of the request runs:
 *  - token, revocation, introspection: RATE_LIMIT_TOKEN per RATE_LIMIT_WINDOW per IP
 *  - authorize and login: RATE_LIMIT_AUTHORIZE per window per IP
 *  - the admin and audit APIs: RATE_LIMIT_API per window per IP
 * An IPv6 client counts by its /64 (ipBucket). The per-client limit of the protocol routes counts only requests
 * whose client authenticated (ClientRateLimit, called by client authentication): a client_id as sent is
 * never a key, so nobody can use up another client's allowance, and a refused IP creates no key at all.
 * A refusal is 429 with Retry-After: RFC-style JSON on protocol routes and APIs, an HTML page at
 * /oauth/authorize and /login (rendered by the global filter), never a redirect; it is audited as
 * request.rate_limited once per key and window (RefusalAuditor, with the count).
 *
 * Why not @nestjs/throttler: version 6.7 is CommonJS and require()s @nestjs/common, which Nest 12 ships as
 * ES modules only. Node 20.19 can load that, but Jest on Node 20 cannot (require(esm) needs Node 24.9), so
 * no test could exercise it. This guard is the same fixed-window model over the same storage contract.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly counters: SharedCounterStorage,
    private readonly refusals: RefusalAuditor,
    @Inject(abuseConfig.KEY) private readonly config: AbuseConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const route = routePath(req);
    const limit = this.limitOf(route);
    if (!limit) return true;
    const windowMs = this.config.rateLimitWindow * 1000;
    const key = `${limit.prefix}:ip:${requestIpBucket(req)}`;
    const { totalHits, timeToExpire } = this.counters.increment(key, windowMs);
    if (totalHits <= limit.max) return true;

    await this.refusals.record(key, windowMs, {
      type: 'request.rate_limited',
      outcome: 'failure',
      errorCode: 'slow_down',
      reason: 'rate_limited',
      clientId: clientIdOf(req),
      details: { route, limit: 'ip' },
    });
    throw new SlowDown(timeToExpire);
  }

  private limitOf(route: string): { prefix: string; max: number } | undefined {
    if (PROTOCOL_ROUTE.test(route)) return { prefix: 'p', max: this.config.rateLimitToken };
    if (PAGES.test(route)) return { prefix: 'pg', max: this.config.rateLimitAuthorize };
    if (API.test(route)) return { prefix: 'api', max: this.config.rateLimitApi };
    return undefined;
  }
}

/** The client_id a request names (Basic user or body; for authorize, the query), as sent: for the audit row only. */
function clientIdOf(req: HttpRequest): string | null {
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.client_id;
  return sentClientId(req) ?? (typeof fromQuery === 'string' && fromQuery ? fromQuery.slice(0, 128) : null);
}
