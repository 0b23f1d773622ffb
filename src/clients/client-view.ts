import type { ClientEntity } from './client.entity';
import type { ClientResponseDto } from './dto/client-response.dto';

/** The admin API's view of a client: RFC 7591 names, no secret material of any kind. */
export function toClientView(e: ClientEntity): ClientResponseDto {
  return {
    client_id: e.clientId,
    client_name: e.clientName,
    redirect_uris: [...e.redirectUris],
    post_logout_redirect_uris: [...(e.postLogoutRedirectUris ?? [])],
    grant_types: [...e.grantTypes],
    token_endpoint_auth_method: e.tokenEndpointAuthMethod,
    scope: e.scope,
    require_consent: e.requireConsent,
    enabled: e.enabled,
    dpop_bound_access_tokens: e.dpopBoundAccessTokens,
    require_pushed_authorization_requests: e.requirePushedAuthorizationRequests,
    created_at: new Date(e.createdAt).toISOString(),
    updated_at: new Date(e.updatedAt).toISOString(),
  };
}
