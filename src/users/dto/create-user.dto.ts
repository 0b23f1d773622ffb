import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { Optional } from '../../clients/dto/validators';
import { Email, MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, Password, ProfileName, Username } from './user-fields';

/** POST /admin/users */
export class CreateUserDto {
  @ApiProperty({
    example: 'ada',
    minLength: 1,
    maxLength: 64,
    description: 'unique, case-insensitively (NFKC)',
  })
  @Username()
  username: string;

  @ApiProperty({
    example: 'correct horse battery staple',
    minLength: 12,
    maxLength: 1024,
    description: 'at least PASSWORD_MIN_LENGTH (default 12) characters; never returned',
    writeOnly: true,
  })
  @Password()
  password: string;

  @ApiPropertyOptional({ example: 'Ada Lovelace', nullable: true, maxLength: MAX_NAME_LENGTH })
  @Optional()
  @ProfileName()
  name?: string | null;

  @ApiPropertyOptional({ example: 'ada@example.com', nullable: true, maxLength: MAX_EMAIL_LENGTH })
  @Optional()
  @Email()
  email?: string | null;

  @ApiPropertyOptional({ example: false, default: false })
  @Optional()
  @IsBoolean()
  email_verified?: boolean;

  @ApiPropertyOptional({ example: true, default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}
