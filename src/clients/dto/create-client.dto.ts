import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsIn } from 'class-validator';
import { AUTH_METHODS, GRANT_TYPES, type GrantType, type TokenEndpointAuthMethod } from '../client.entity';
import { MAX_CLIENT_NAME_LENGTH, MAX_REDIRECT_URIS } from '../client-rules';
import {
  ClientName,
  GrantTypes,
  Optional,
  PostLogoutRedirectUris,
  RedirectUris,
  ScopeString,
} from './validators';

/**
 * POST /admin/clients (RFC 7591 field names). Each field's shape is checked here; the rules that combine
 * fields (and depend on configuration or on the caller) are in client-rules.ts.
 */
export class CreateClientDto {
  @ApiProperty({ example: 'Billing dashboard', minLength: 1, maxLength: MAX_CLIENT_NAME_LENGTH })
  @IsDefined({ message: 'client_name is required' })
  @ClientName()
  client_name: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['https://billing.example.com/oauth/callback', 'http://127.0.0.1/callback'],
    maxItems: MAX_REDIRECT_URIS,
    description:
      'Absolute URIs without fragment: https, http only on 127.0.0.1 / [::1] (any port), or a private-use ' +
      'scheme for native apps (com.example.app:/callback); never localhost. Required with authorization_code.',
  })
  @Optional()
  @RedirectUris()
  redirect_uris?: string[];

  @ApiPropertyOptional({
    type: [String],
    example: ['https://billing.example.com/signed-out'],
    maxItems: MAX_REDIRECT_URIS,
    description:
      'RP-Initiated Logout: where /oauth/logout may send the user afterwards (exact match); same rules as redirect_uris.',
  })
  @Optional()
  @PostLogoutRedirectUris()
  post_logout_redirect_uris?: string[];

  @ApiPropertyOptional({
    type: [String],
    enum: GRANT_TYPES,
    example: ['authorization_code', 'refresh_token'],
    default: ['authorization_code'],
    description: 'refresh_token requires authorization_code; client_credentials needs a confidential client',
  })
  @Optional()
  @GrantTypes()
  grant_types?: GrantType[];

  @ApiPropertyOptional({
    enum: AUTH_METHODS,
    example: 'client_secret_basic',
    default: 'client_secret_basic',
    description: 'none = public client (no secret)',
  })
  @Optional()
  @IsIn(AUTH_METHODS)
  token_endpoint_auth_method?: TokenEndpointAuthMethod;

  @ApiPropertyOptional({
    example: 'api:read api:write',
    default: '',
    description:
      'Space-separated, each one of SCOPES or a built-in scope (clients:read clients:write audit:read; built-in ' +
      'scopes only for confidential clients with client_credentials, and only those the caller holds).',
  })
  @Optional()
  @ScopeString()
  scope?: string;

  @ApiPropertyOptional({ example: false, default: false, description: 'ask the user for consent every time' })
  @Optional()
  @IsBoolean()
  require_consent?: boolean;

  @ApiPropertyOptional({ example: true, default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    example: true,
    default: false,
    description:
      'RFC 9449 §5.2: when true, every token request of this client must carry a DPoP proof (else invalid_request), so its access tokens are always sender-constrained',
  })
  @Optional()
  @IsBoolean()
  dpop_bound_access_tokens?: boolean;

  @ApiPropertyOptional({
    example: true,
    default: false,
    description:
      'RFC 9126 §6: when true, the authorization requests of this client must be pushed to /oauth/par first (else an invalid_request redirect)',
  })
  @Optional()
  @IsBoolean()
  require_pushed_authorization_requests?: boolean;
}
