/** A client as the other modules see it, and its enumerations (the clients table's row is client.entity.ts). */

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';
export const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'none',
  'client_secret_basic',
  'client_secret_post',
];
export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export const GRANT_TYPES: readonly GrantType[] = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
];

/** What other modules see of a client (no secret material). */
export interface Client {
  clientId: string;
  clientName: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: GrantType[];
  scopes: string[];
  requireConsent: boolean;
  enabled: boolean;
  isPublic: boolean;
  dpopBoundAccessTokens: boolean;
  requirePushedAuthorizationRequests: boolean;
}
