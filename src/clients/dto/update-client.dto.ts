import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn } from 'class-validator';
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
 * PATCH /admin/clients/:client_id: any subset of the registration fields, each validated like at creation;
 * the merged client is then checked against the cross-field rules. `null` is not "unset": it is refused.
 */
export class UpdateClientDto {
  @ApiPropertyOptional({ example: 'Billing dashboard (EU)', minLength: 1, maxLength: MAX_CLIENT_NAME_LENGTH })
  @Optional()
  @ClientName()
  client_name?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['https://billing.example.com/oauth/callback'],
    maxItems: MAX_REDIRECT_URIS,
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
  })
  @Optional()
  @GrantTypes()
  grant_types?: GrantType[];

  @ApiPropertyOptional({
    enum: AUTH_METHODS,
    example: 'client_secret_post',
    description:
      'may change between client_secret_basic and client_secret_post; a client cannot change between public (none) and confidential',
  })
  @Optional()
  @IsIn(AUTH_METHODS)
  token_endpoint_auth_method?: TokenEndpointAuthMethod;

  @ApiPropertyOptional({ example: 'api:read' })
  @Optional()
  @ScopeString()
  scope?: string;

  @ApiPropertyOptional({ example: true })
  @Optional()
  @IsBoolean()
  require_consent?: boolean;

  @ApiPropertyOptional({
    example: false,
    description: 'false revokes every live grant of the client at once',
  })
  @Optional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({
    example: true,
    description:
      'RFC 9449 §5.2: when true, every token request of this client must carry a DPoP proof (else invalid_request), so its access tokens are always sender-constrained',
  })
  @Optional()
  @IsBoolean()
  dpop_bound_access_tokens?: boolean;

  @ApiPropertyOptional({
    example: true,
    description:
      'RFC 9126 §6: when true, the authorization requests of this client must be pushed to /oauth/par first (else an invalid_request redirect)',
  })
  @Optional()
  @IsBoolean()
  require_pushed_authorization_requests?: boolean;
}
