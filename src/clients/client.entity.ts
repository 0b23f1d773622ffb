import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { Client, GrantType, TokenEndpointAuthMethod } from './client';

export {
  AUTH_METHODS,
  GRANT_TYPES,
  type Client,
  type GrantType,
  type TokenEndpointAuthMethod,
} from './client';

@Entity({ name: 'clients' })
export class ClientEntity {
  @PrimaryColumn({ name: 'client_id', type: 'varchar', length: 64 })
  clientId: string;

  @Column({ name: 'client_name', type: 'varchar', length: 200 })
  clientName: string;

  @Column({ name: 'token_endpoint_auth_method', type: 'varchar', length: 32 })
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;

  /** SHA-256 hex of the current secret (confidential clients only). */
  @Column({ name: 'secret_hash', type: 'char', length: 64, nullable: true })
  secretHash: string | null;

  /** The previous secret stays valid until previousSecretExpiresAt after a rotation with overlap. */
  @Column({ name: 'previous_secret_hash', type: 'char', length: 64, nullable: true })
  previousSecretHash: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column({ name: 'redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  redirectUris: string[];

  /** RP-Initiated Logout 1.0 §3.1: where a logout may send the user back (exact match) */
  @Column({ name: 'post_logout_redirect_uris', type: 'text', array: true, default: () => "'{}'" })
  postLogoutRedirectUris: string[];

  @Column({ name: 'grant_types', type: 'text', array: true })
  grantTypes: GrantType[];

  /** space-separated */
  @Column({ type: 'text', default: '' })
  scope: string;

  @Column({ name: 'require_consent', type: 'boolean', default: false })
  requireConsent: boolean;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** RFC 9449 §5.2: token requests must carry a DPoP proof. */
  @Column({ name: 'dpop_bound_access_tokens', type: 'boolean', default: false })
  dpopBoundAccessTokens: boolean;

  /** RFC 9126 §6: authorization requests must be pushed (PAR). */
  @Column({ name: 'require_pushed_authorization_requests', type: 'boolean', default: false })
  requirePushedAuthorizationRequests: boolean;

  @Column({ name: 'created_by', type: 'varchar', length: 64, nullable: true })
  createdBy: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export function toClient(e: ClientEntity): Client {
  return {
    clientId: e.clientId,
    clientName: e.clientName,
    tokenEndpointAuthMethod: e.tokenEndpointAuthMethod,
    redirectUris: e.redirectUris,
    postLogoutRedirectUris: e.postLogoutRedirectUris ?? [],
    grantTypes: e.grantTypes,
    scopes: e.scope ? e.scope.split(' ').filter(Boolean) : [],
    requireConsent: e.requireConsent,
    enabled: e.enabled,
    isPublic: e.tokenEndpointAuthMethod === 'none',
    dpopBoundAccessTokens: e.dpopBoundAccessTokens ?? false,
    requirePushedAuthorizationRequests: e.requirePushedAuthorizationRequests ?? false,
  };
}
