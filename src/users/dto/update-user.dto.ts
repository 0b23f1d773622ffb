import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { Optional } from '../../clients/dto/validators';
import { Email, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, Password, ProfileName } from './user-fields';

/**
 * PATCH /admin/users/:id: any subset. A new `password` or `enabled: false` ends the user's sessions and
 * revokes the user's grants. `name`/`email` may be null (removed); `null` elsewhere is refused.
 */
export class UpdateUserDto {
  @ApiPropertyOptional({ example: 'a new long passphrase', writeOnly: true })
  @Optional()
  @Password()
  password?: string;

  @ApiPropertyOptional({ example: 'Ada King', nullable: true, maxLength: MAX_NAME_LENGTH })
  @Optional()
  @ProfileName()
  name?: string | null;

  @ApiPropertyOptional({ example: 'ada@example.org', nullable: true, maxLength: MAX_EMAIL_LENGTH })
  @Optional()
  @Email()
  email?: string | null;

  @ApiPropertyOptional({ example: true })
  @Optional()
  @IsBoolean()
  email_verified?: boolean;

  @ApiPropertyOptional({ example: false, description: 'false ends its sessions and revokes its grants' })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}
