import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUTH_METHODS, GRANT_TYPES, type GrantType, type TokenEndpointAuthMethod } from '../client.entity';

const EXAMPLE_ID = 'lk_3q2-7wAAb1xkqU1H0eVQ8g';
const EXAMPLE_SECRET = 'Zk9yQ3Jh1v2mJ8kqS0x7pW4nT6bL5dH3cF9gE2aR1uY';

/** A client as the admin API returns it (RFC 7591 names). Never any secret or hash. */
export class ClientResponseDto {
  @ApiProperty({ example: EXAMPLE_ID, description: 'random, never UUID-shaped' })
  client_id: string;

  @ApiProperty({ example: 'Billing dashboard' })
  client_name: string;

  @ApiProperty({ type: [String], example: ['https://billing.example.com/oauth/callback'] })
  redirect_uris: string[];

  @ApiProperty({ type: [String], example: ['https://billing.example.com/signed-out'] })
  post_logout_redirect_uris: string[];

  @ApiProperty({ type: [String], enum: GRANT_TYPES, example: ['authorization_code', 'refresh_token'] })
  grant_types: GrantType[];

  @ApiProperty({ enum: AUTH_METHODS, example: 'client_secret_basic' })
  token_endpoint_auth_method: TokenEndpointAuthMethod;

  @ApiProperty({ example: 'api:read api:write', description: 'space-separated' })
  scope: string;

  @ApiProperty({ example: false })
  require_consent: boolean;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({ example: false, description: 'RFC 9449 §5.2: token requests must carry a DPoP proof' })
  dpop_bound_access_tokens: boolean;

  @ApiProperty({ example: false, description: 'RFC 9126 §6: authorization requests must be pushed (PAR)' })
  require_pushed_authorization_requests: boolean;

  @ApiProperty({ example: '2026-01-02T03:04:05.678Z', format: 'date-time' })
  created_at: string;

  @ApiProperty({ example: '2026-01-02T03:04:05.678Z', format: 'date-time' })
  updated_at: string;
}

/** The answer to POST /admin/clients: the client, plus its secret (confidential clients) shown this once. */
export class CreatedClientResponseDto extends ClientResponseDto {
  @ApiPropertyOptional({
    example: EXAMPLE_SECRET,
    description: '256-bit random secret, returned only here and at rotation; absent for public clients',
  })
  client_secret?: string;
}

export class ClientListResponseDto {
  @ApiProperty({ type: [ClientResponseDto] })
  items: ClientResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'eyJ0IjoiMjAyNi0wMS0wMlQwMzowNDowNS42NzgwMDBaIiwiaSI6ImxrXzNxMi03d0FBYjF4a3FVMUgwZVZROGcifQ',
    description: 'pass as ?cursor= for the next page; null on the last page',
  })
  next_cursor: string | null;
}

export class ClientSecretResponseDto {
  @ApiProperty({ example: EXAMPLE_SECRET, description: 'the new secret, shown only this once' })
  client_secret: string;
}

export const CLIENT_EXAMPLE: CreatedClientResponseDto = {
  client_id: EXAMPLE_ID,
  client_name: 'Billing dashboard',
  redirect_uris: ['https://billing.example.com/oauth/callback'],
  post_logout_redirect_uris: [] as string[],
  grant_types: ['authorization_code', 'refresh_token'],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'api:read api:write',
  require_consent: false,
  enabled: true,
  dpop_bound_access_tokens: false,
  require_pushed_authorization_requests: false,
  created_at: '2026-01-02T03:04:05.678Z',
  updated_at: '2026-01-02T03:04:05.678Z',
};
export const SECRET_EXAMPLE = EXAMPLE_SECRET;
