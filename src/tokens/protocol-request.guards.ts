import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { bodyOf, type HttpReply } from '../http/http';
import { AuditEmitter } from '../events/events';
import { OAuthError } from '../common/oauth-errors';
import { sentClientId } from '../http/sent-client-id';
import { readForm, required, type FormParams, type OAuthRequest } from './oauth-request';
import { TokenEndpointService } from './token-endpoint.service';

/** Parameters of revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) requests. */
export interface TokenLookupParams {
  token: string;
  /** `access_token` or `refresh_token`; any other value is ignored (RFC 7009 §2.1) */
  hint: 'access_token' | 'refresh_token' | undefined;
}

export function parseTokenLookup(params: FormParams): TokenLookupParams {
  const token = required(params, 'token');
  const raw = params.token_type_hint;
  const hint = raw === 'access_token' || raw === 'refresh_token' ? raw : undefined;
  return { token, hint };
}

/**
 * Syntax of a token request, checked before client authentication and without any lookup: form-encoded,
 * no repeated parameter, a supported grant_type and its parameters (a malformed code_verifier is refused here).
 * Failures are audited as token.request_failed.
 */
@Injectable()
export class TokenRequestGuard implements CanActivate {
  constructor(private readonly tokens: TokenEndpointService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<OAuthRequest>();
    try {
      const params = readForm(req);
      req.oauth = { params, cors: context.switchToHttp().getResponse<HttpReply>() };
      req.oauth.parsed = this.tokens.parse(params);
      return true;
    } catch (err) {
      if (err instanceof OAuthError) {
        const grantType = bodyOf(req)?.grant_type;
        await this.tokens.recordFailure(
          err,
          sentClientId(req),
          typeof grantType === 'string' ? grantType.slice(0, 64) : null,
        );
      }
      throw err;
    }
  }
}

/**
 * Syntax of a pushed authorization request (RFC 9126 §2.1): form-encoded, no repeated parameter; the
 * authorization request rules run after client authentication. A failure is audited as par.request_failed.
 */
@Injectable()
export class ParRequestGuard implements CanActivate {
  constructor(private readonly audit: AuditEmitter) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<OAuthRequest>();
    try {
      req.oauth = { params: readForm(req), cors: context.switchToHttp().getResponse<HttpReply>() };
      return true;
    } catch (err) {
      if (err instanceof OAuthError) {
        await this.audit.record({
          type: 'par.request_failed',
          outcome: 'failure',
          errorCode: err.code,
          reason: err.reason,
          clientId: sentClientId(req),
          details: { reason: err.reason },
        });
      }
      throw err;
    }
  }
}

/**
 * Syntax of a revocation or introspection request (`token`, optional `token_type_hint`), checked before client
 * authentication; a failure is audited with the endpoint's own event type.
 */
abstract class TokenLookupRequestGuard implements CanActivate {
  protected abstract readonly failureEvent: 'token.revocation_failed' | 'token.introspected';
  protected abstract readonly cors: boolean;

  constructor(private readonly audit: AuditEmitter) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<OAuthRequest>();
    try {
      const params = readForm(req);
      req.oauth = { params, cors: this.cors ? context.switchToHttp().getResponse<HttpReply>() : undefined };
      req.oauth.parsed = parseTokenLookup(params);
      return true;
    } catch (err) {
      if (err instanceof OAuthError) {
        await this.audit.record({
          type: this.failureEvent,
          outcome: 'failure',
          errorCode: err.code,
          reason: err.reason,
          clientId: sentClientId(req),
          details: { reason: err.reason },
        });
      }
      throw err;
    }
  }
}

/** Syntax of a revocation request (RFC 7009 §2.1); failures audited as token.revocation_failed. */
@Injectable()
export class RevocationRequestGuard extends TokenLookupRequestGuard {
  protected readonly failureEvent = 'token.revocation_failed' as const;
  protected readonly cors = true;

  constructor(audit: AuditEmitter) {
    super(audit);
  }
}

/** Syntax of an introspection request (RFC 7662 §2.1); failures audited as token.introspected (failure). */
@Injectable()
export class IntrospectionRequestGuard extends TokenLookupRequestGuard {
  protected readonly failureEvent = 'token.introspected' as const;
  protected readonly cors = false;

  constructor(audit: AuditEmitter) {
    super(audit);
  }
}
