import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { ClientRateLimit } from '../../rate-limit/client-rate-limit.service';
import type { AuthenticatableClient } from '../../clients/clients.service';
import { AuditEmitter } from '../../events/events';
import { routePath } from '../../http/http';
import { InvalidClient, OAuthError } from '../../common/oauth-errors';
import { sentClientId } from '../../http/sent-client-id';
import type { OAuthRequest } from '../oauth-request';
import { CLIENT_AUTH_STRATEGIES, presentedCredentials } from './presented-credentials';

export type ProtocolEndpoint = 'token' | 'revocation' | 'introspection' | 'par';

export interface ClientAuthPolicy {
  endpoint: ProtocolEndpoint;
  /** Introspection: public clients are refused (401 invalid_client). */
  confidentialOnly: boolean;
}

const POLICY = 'latchkey:client-auth-policy';

/** Declares how a protocol endpoint authenticates its client (read by ClientAuthGuard). */
export const ClientAuthPolicyOf = (policy: ClientAuthPolicy) => SetMetadata(POLICY, policy);

/** A passport guard for one strategy whose failures stay OAuth errors (never a bare 401 UnauthorizedException). */
function strategyGuard(name: string): CanActivate {
  class StrategyGuard extends AuthGuard(name) {
    override handleRequest<T>(err: unknown, user: T): T {
      if (err) throw err;
      if (!user) throw new InvalidClient('client authentication failed', 'unknown_client');
      return user;
    }
  }
  return new StrategyGuard();
}

/**
 * Client authentication for token, revocation and introspection (docs/tokens.md: the same everywhere). Runs after
 * the endpoint's request guard (which parsed the form). Exactly one method per request; the matching passport
 * strategy authenticates it. Every failure is audited as `client.authentication_failed` (never as the endpoint's
 * own failure event) with the client_id as sent.
 */
@Injectable()
export class ClientAuthGuard implements CanActivate {
  private readonly strategies = {
    client_secret_basic: strategyGuard(CLIENT_AUTH_STRATEGIES.client_secret_basic),
    client_secret_post: strategyGuard(CLIENT_AUTH_STRATEGIES.client_secret_post),
    none: strategyGuard(CLIENT_AUTH_STRATEGIES.none),
  };

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditEmitter,
    private readonly rateLimit: ClientRateLimit,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<OAuthRequest>();
    const policy = this.reflector.get<ClientAuthPolicy>(POLICY, context.getHandler());
    const state = req.oauth;
    if (!policy || !state) throw new Error('ClientAuthGuard needs a request guard and a policy');
    try {
      const presented = presentedCredentials(
        typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined,
        state.params,
      );
      state.presented = presented;
      await this.strategies[presented.method].canActivate(context);
      const client = req.user as AuthenticatableClient;
      if (policy.confidentialOnly && client.isPublic) {
        throw new InvalidClient('this endpoint is for confidential clients', 'method_not_allowed');
      }
      state.client = client;
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      await this.audit.record({
        type: 'client.authentication_failed',
        outcome: 'failure',
        errorCode: err.code,
        reason: err.reason,
        clientId: sentClientId(req),
        details: { reason: err.reason, endpoint: policy.endpoint },
      });
      throw err;
    }
    // the per-client limit counts only authenticated requests (docs/abuse-protection.md): a confidential
    // client now; a public client once its grant proved a code or refresh token of its own (TokenEndpointService)
    if (state.client.isPublic) await this.rateLimit.check(state.client.clientId, routePath(req));
    else await this.rateLimit.charge(state.client.clientId, routePath(req));
    return true;
  }
}
