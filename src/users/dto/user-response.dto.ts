import { ApiProperty } from '@nestjs/swagger';

export const USER_EXAMPLE = {
  id: '3f2c9a1e-8b4d-4e5f-9a6b-7c8d9e0f1a2b',
  username: 'ada',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  email_verified: true,
  enabled: true,
  created_at: '2026-12-02T10:00:00.000Z',
  updated_at: '2026-12-02T10:00:00.000Z',
};

export const GRANT_EXAMPLE = {
  client_id: 'lk_7Hc2rK9xQ1',
  client_name: 'Billing dashboard',
  scope: 'openid profile api:read',
  created_at: '2026-12-02T10:05:00.000Z',
  last_used_at: '2026-12-02T11:40:12.000Z',
};

/** A user as the admin API shows it (never a password or its hash). */
export class UserResponseDto {
  @ApiProperty({ example: USER_EXAMPLE.id, format: 'uuid' }) id: string;
  @ApiProperty({ example: USER_EXAMPLE.username }) username: string;
  @ApiProperty({ example: USER_EXAMPLE.name, nullable: true, type: String }) name: string | null;
  @ApiProperty({ example: USER_EXAMPLE.email, nullable: true, type: String }) email: string | null;
  @ApiProperty({ example: true }) email_verified: boolean;
  @ApiProperty({ example: true }) enabled: boolean;
  @ApiProperty({ example: USER_EXAMPLE.created_at }) created_at: string;
  @ApiProperty({ example: USER_EXAMPLE.updated_at }) updated_at: string;
}

export class UserListResponseDto {
  @ApiProperty({ type: [UserResponseDto] }) items: UserResponseDto[];
  @ApiProperty({ type: String, nullable: true, example: null }) next_cursor: string | null;
}

/** A client to which the user granted access (one item per client: its live grants together). */
export class UserGrantDto {
  @ApiProperty({ example: GRANT_EXAMPLE.client_id }) client_id: string;
  @ApiProperty({ example: GRANT_EXAMPLE.client_name }) client_name: string;
  @ApiProperty({ example: GRANT_EXAMPLE.scope, description: 'the scopes of its live grants' }) scope: string;
  @ApiProperty({ example: GRANT_EXAMPLE.created_at, description: 'the oldest live grant' })
  created_at: string;
  @ApiProperty({
    example: GRANT_EXAMPLE.last_used_at,
    description: 'the last token issued in these grants (code exchange or refresh)',
  })
  last_used_at: string;
}

export class UserGrantListResponseDto {
  @ApiProperty({ type: [UserGrantDto] }) items: UserGrantDto[];
  @ApiProperty({ type: String, nullable: true, example: null }) next_cursor: string | null;
}
