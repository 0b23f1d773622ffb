import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
  applyDecorators,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { routePath, type HttpRequest } from '../http/http';
import { requestIpBucket } from '../http/request-context.hooks';
import type { AuditEventInput } from '../events/events';
import { OAuthError } from '../common/oauth-errors';
import { RefusalAuditor } from '../events/refusal-auditor';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { DpopResourceCheck, presentedAccessToken } from '../dpop/dpop-resource.check';
import { BearerStrategy, type ApiPrincipal } from './bearer.strategy';

const SCOPES_KEY = 'latchkey:required-scopes';

/**
 * Passport bearer authentication for the admin and audit APIs. Missing or invalid token → 401 with
 * `WWW-Authenticate: Bearer`; a token issued to a user (not client_credentials) is refused too. A DPoP-bound
 * token (cnf.jkt) must come as `Authorization: DPoP` with a valid proof of its key (RFC 9449 §7,
 * DpopResourceCheck); a refused proof is 401 with a `WWW-Authenticate: DPoP` challenge.
 */
@Injectable()
export class BearerAuthGuard extends AuthGuard('bearer') {
  constructor(
    private readonly refusals: RefusalAuditor,
    @Inject(abuseConfig.KEY) private readonly abuse: AbuseConfig,
    private readonly strategy: BearerStrategy,
    private readonly dpop: DpopResourceCheck,
  ) {
    super({ session: false });
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const header = req.headers.authorization;
    const presented = presentedAccessToken(header);
    if (!header || !/^(Bearer|DPoP)\s/i.test(header)) {
      await this.deny(req, 'missing_token');
      throw new OAuthError('invalid_token', 'a bearer access token is required', 'missing_token');
    }
    let ok: boolean;
    try {
      if (presented?.scheme === 'DPoP') {
        // passport-http-bearer reads the Bearer scheme only; the token itself is verified the same way
        const principal = await this.strategy.validate(presented.token);
        req.user = principal || undefined;
        ok = principal !== false;
      } else {
        ok = (await super.canActivate(context)) as boolean;
      }
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      if (!(err as { status?: number })?.status) throw err; // database down etc.: let the filter decide
      ok = false;
    }
    const principal = req.user as ApiPrincipal | undefined;
    if (!ok || !principal) {
      await this.deny(req, 'invalid_token');
      throw new OAuthError('invalid_token', 'the access token is invalid, expired or revoked');
    }
    if (!principal.isClientToken) {
      await this.deny(req, 'invalid_token', principal.clientId);
      throw new OAuthError('invalid_token', 'tokens issued to users are not accepted here');
    }
    try {
      await this.dpop.check(req, presented ?? { scheme: 'Bearer', token: '' }, principal.jkt);
    } catch (err) {
      if (err instanceof OAuthError) await this.deny(req, err.reason, principal.clientId, err.code);
      throw err;
    }
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err) throw err;
    return user;
  }

  private deny(req: HttpRequest, reason: string, clientId?: string, errorCode = 'invalid_token') {
    return recordDenial(this.refusals, this.abuse, req, {
      type: 'api.access_denied',
      outcome: 'failure',
      errorCode,
      reason,
      clientId: clientId ?? null,
      details: { reason, path: routePath(req) },
    });
  }
}

/**
 * `api.access_denied` once per (IP, client, reason, route) and RATE_LIMIT_WINDOW, with the count (anyone can
 * repeat a denial at will: it must not cost a row each). The path stored is the route's pattern
 * (`/admin/clients/:client_id`), never the raw path, which the sender writes.
 */
function recordDenial(
  refusals: RefusalAuditor,
  abuse: AbuseConfig,
  req: HttpRequest,
  event: AuditEventInput,
): Promise<boolean> {
  const ip = requestIpBucket(req);
  const key = `${ip}|${event.clientId ?? ''}|${event.reason}|${routePath(req)}`;
  return refusals.record(key, abuse.rateLimitWindow * 1000, event);
}

/** 403 insufficient_scope unless the principal holds every scope named by @RequireScopes. */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly refusals: RefusalAuditor,
    @Inject(abuseConfig.KEY) private readonly abuse: AbuseConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const required =
      this.reflector.getAllAndOverride<string[]>(SCOPES_KEY, [context.getHandler(), context.getClass()]) ??
      [];
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const principal = req.user as ApiPrincipal;
    const missing = required.filter((s) => !principal.scopes.includes(s));
    if (missing.length === 0) return true;
    await recordDenial(this.refusals, this.abuse, req, {
      type: 'api.access_denied',
      outcome: 'failure',
      errorCode: 'insufficient_scope',
      reason: 'insufficient_scope',
      clientId: principal.clientId,
      subject: principal.clientId,
      details: { reason: 'insufficient_scope', path: routePath(req), required },
    });
    throw new OAuthError('insufficient_scope', `this request requires the scope ${missing.join(' ')}`);
  }
}

/** `@RequireScopes('clients:write')` on a controller or handler: bearer token + scopes. */
export function RequireScopes(...scopes: string[]) {
  return applyDecorators(
    SetMetadata(SCOPES_KEY, scopes),
    UseGuards(BearerAuthGuard, ScopesGuard),
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description: 'missing, invalid, expired or revoked token (WWW-Authenticate: Bearer)',
    }),
    ApiForbiddenResponse({ description: `insufficient_scope: requires ${scopes.join(' ')}` }),
  );
}
