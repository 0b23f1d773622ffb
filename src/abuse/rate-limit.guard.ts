import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { PROTOCOL_ROUTE, routePath, type HttpReply, type HttpRequest } from '../common/http';
import { AuditEmitter } from '../common/events';
import { OAuthError } from '../common/oauth-errors';
import { normaliseIp } from '../common/request-context.hooks';
import { sentClientId } from '../common/sent-client-id';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { SharedCounterStorage } from './shared-counter.storage';

const PAGES = /^\/(oauth\/authorize|login)\/?$/;

/**
 * Rate limits (CONTRACT.md, Abuse protection), counted in SharedCounterStorage (shared by all instances):
 *  - token, revocation, introspection: RATE_LIMIT_TOKEN per RATE_LIMIT_WINDOW per IP and per client_id
 *  - authorize and login: RATE_LIMIT_AUTHORIZE per window per IP
 * A refusal is 429 with Retry-After: RFC-style JSON on protocol routes, an HTML page at /oauth/authorize and
 * /login (rendered by the global filter), never a redirect; each refusal is audited (request.rate_limited).
 *
 * Why not @nestjs/throttler: version 6.7 is CommonJS and require()s @nestjs/common, which Nest 12 ships as
 * ES modules only. Node 20.19 can load that, but Jest on Node 20 cannot (require(esm) needs Node 24.9), so
 * no test could exercise it. This guard is the same fixed-window model over the same storage contract.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly counters: SharedCounterStorage,
    private readonly audit: AuditEmitter,
    @Inject(abuseConfig.KEY) private readonly config: AbuseConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const windowMs = this.config.rateLimitWindow * 1000;
    const ip = normaliseIp(req.ip) ?? 'unknown';
    let retryAfter: number;
    if (PROTOCOL_ROUTE.test(routePath(req))) {
      retryAfter = this.hit(`p:ip:${ip}`, this.config.rateLimitToken, windowMs);
      const clientId = clientIdOf(req);
      if (clientId)
        retryAfter = Math.max(
          retryAfter,
          this.hit(`p:client:${clientId}`, this.config.rateLimitToken, windowMs),
        );
    } else if (PAGES.test(routePath(req))) {
      retryAfter = this.hit(`pg:ip:${ip}`, this.config.rateLimitAuthorize, windowMs);
    } else {
      return true;
    }
    if (retryAfter === 0) return true;

    void context.switchToHttp().getResponse<HttpReply>().header('Retry-After', String(retryAfter));
    await this.audit.record({
      type: 'request.rate_limited',
      outcome: 'failure',
      errorCode: 'slow_down',
      reason: 'rate_limited',
      clientId: clientIdOf(req),
      details: { route: routePath(req) },
    });
    throw new OAuthError('slow_down', `too many requests: retry after ${retryAfter} s`, 'rate_limited');
  }

  /** Counts one hit; returns 0 when allowed, else the seconds until the window resets. */
  private hit(key: string, limit: number, windowMs: number): number {
    const { totalHits, timeToExpire } = this.counters.increment(key, windowMs);
    return totalHits > limit ? timeToExpire : 0;
  }
}

/** The client_id a request names (Basic user or body; for authorize, the query), as sent. */
function clientIdOf(req: HttpRequest): string | null {
  const fromQuery = (req.query as Record<string, unknown> | undefined)?.client_id;
  return sentClientId(req) ?? (typeof fromQuery === 'string' && fromQuery ? fromQuery.slice(0, 128) : null);
}
