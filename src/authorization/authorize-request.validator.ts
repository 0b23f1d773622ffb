import { Inject, Injectable } from '@nestjs/common';
import { ClientsService, isPlausibleClientId, type AuthenticatableClient } from '../clients/clients.service';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { AuthorizationRequestsRepository } from './authorization-requests.repository';
import { checkClientStatus, ClientStatus } from './checks/client-status.check';
import { checkNoDuplicateParameters } from './checks/duplicate-parameters.check';
import { checkAuthorizationCodeGrant } from './checks/grant-type.check';
import { checkOidcParameters, type OidcParameters } from './checks/oidc-parameters.check';
import { checkPkce } from './checks/pkce.check';
import { QueryParameters, single } from './checks/query-parameters';
import { checkRedirectUri } from './checks/redirect-uri.check';
import { Rejection } from './checks/rejection';
import { checkRequiredOnce } from './checks/required-parameter.check';
import { checkResponseType } from './checks/response-type.check';
import { resolveScope } from './checks/scope.check';

/**
 * The longest `state` accepted (issue 20, finding 3): a pending request is stored for 10 minutes before anyone
 * has signed in, so what it holds must be bounded; a client's state is a nonce or a short reference (RFC 6749
 * §10.12), 1 KB is plenty.
 */
export const STATE_MAX_LENGTH = 1024;

/** A request that passed every rule: safe to show login/consent for, and to answer with a code. */
export interface ValidatedAuthorizationRequest {
  client: AuthenticatableClient;
  redirectUri: string;
  scopes: string[];
  state: string | null;
  codeChallenge: string;
  /** nonce, prompt and max_age (OIDC Core §3.1.2.1) */
  oidc: OidcParameters;
}

export type AuthorizeValidation =
  | { kind: 'valid'; request: ValidatedAuthorizationRequest }
  /** rule 1 failed: the redirect URI cannot be trusted → 400 page, never a redirect */
  | { kind: 'page'; rejection: Rejection; clientId: string | null }
  /** a later rule failed: error redirect to the (verified) redirect URI */
  | {
      kind: 'redirect';
      rejection: Rejection;
      clientId: string;
      redirectUri: string;
      state: string | null;
    };

/**
 * docs/authorization.md, "Authorization request rules", in order. Every rule is a pure check in ./checks; this class
 * only sequences them and looks the client up (one indexed query on the success path).
 */
@Injectable()
export class AuthorizeRequestValidator {
  constructor(
    private readonly clients: ClientsService,
    private readonly requests: AuthorizationRequestsRepository,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  /**
   * `pushed`: the parameters come from a pushed request (RFC 9126), so a PAR requirement (REQUIRE_PAR or the
   * client's require_pushed_authorization_requests) is met.
   */
  async validate(params: QueryParameters, options: { pushed?: boolean } = {}): Promise<AuthorizeValidation> {
    // what the caller sent, for the audit trail even when the request is refused
    const sentClientId = params.get('client_id')?.[0] || null;

    // 1. client_id and redirect_uri exactly once; client exists and is enabled; redirect_uri registered
    const clientId = checkRequiredOnce(params, 'client_id');
    if (!clientId.ok) return { kind: 'page', rejection: clientId.rejection, clientId: sentClientId };
    const redirectUri = checkRequiredOnce(params, 'redirect_uri');
    if (!redirectUri.ok) return { kind: 'page', rejection: redirectUri.rejection, clientId: sentClientId };
    const client = await this.clients.findEnabled(clientId.value);
    const status = checkClientStatus(client ? 'enabled' : await this.statusOfMissing(clientId.value));
    if (!status.ok || !client)
      return { kind: 'page', rejection: status.ok ? unknown() : status.rejection, clientId: sentClientId };
    const redirect = checkRedirectUri(client.redirectUris, redirectUri.value);
    if (!redirect.ok) return { kind: 'page', rejection: redirect.rejection, clientId: client.clientId };

    // 2.–4. from here on the redirect URI is trusted: errors are redirects carrying state and iss
    const stateValues = params.get('state') ?? [];
    const sentState = stateValues.length === 1 && stateValues[0] !== '' ? stateValues[0] : null;
    const tooLong = sentState !== null && sentState.length > STATE_MAX_LENGTH;
    const state = tooLong ? null : sentState; // an over-long state is not echoed back either
    const refuse = (rejection: Rejection): AuthorizeValidation => ({
      kind: 'redirect',
      rejection,
      clientId: client.clientId,
      redirectUri: redirect.value,
      state,
    });
    if (tooLong)
      return refuse({
        error: 'invalid_request',
        reason: 'invalid_request',
        description: `state is longer than ${STATE_MAX_LENGTH} characters`,
      });

    // RFC 9126 §5, §6: PAR required by the server or for this client
    if (!options.pushed && (this.oauth.requirePar || client.requirePushedAuthorizationRequests)) {
      return refuse({
        error: 'invalid_request',
        reason: 'par_required',
        description:
          'authorization requests must be pushed to the pushed authorization request endpoint first',
      });
    }
    const duplicates = checkNoDuplicateParameters(params);
    if (!duplicates.ok) return refuse(duplicates.rejection);
    const responseType = checkResponseType(single(params, 'response_type'));
    if (!responseType.ok) return refuse(responseType.rejection);
    const grant = checkAuthorizationCodeGrant(client.grantTypes);
    if (!grant.ok) return refuse(grant.rejection);
    const pkce = checkPkce(single(params, 'code_challenge'), single(params, 'code_challenge_method'));
    if (!pkce.ok) return refuse(pkce.rejection);
    const scopes = resolveScope(single(params, 'scope'), client.scopes, this.oauth.scopes);
    if (!scopes.ok) return refuse(scopes.rejection);
    const oidc = checkOidcParameters(
      scopes.value,
      single(params, 'nonce'),
      single(params, 'prompt'),
      single(params, 'max_age'),
    );
    if (!oidc.ok) return refuse(oidc.rejection);

    return {
      kind: 'valid',
      request: {
        client,
        redirectUri: redirect.value,
        scopes: scopes.value,
        state,
        codeChallenge: pkce.value,
        oidc: oidc.value,
      },
    };
  }

  /** Only on the failure path: was the client id unknown, or is the client disabled? */
  private async statusOfMissing(clientId: string): Promise<ClientStatus> {
    if (!isPlausibleClientId(clientId)) return 'unknown';
    const enabled = await this.requests.clientEnabled(clientId);
    return enabled === undefined ? 'unknown' : enabled ? 'enabled' : 'disabled';
  }
}

function unknown(): Rejection {
  return {
    error: 'invalid_request',
    reason: 'unknown_client',
    description: 'the client_id is not registered',
  };
}
