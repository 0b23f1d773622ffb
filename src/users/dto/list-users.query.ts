import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../http/keyset-cursor';
import { Optional } from '../../clients/dto/validators';

/** GET /admin/users?limit=&cursor=&username= and GET /admin/users/:id/grants?limit=&cursor= */
export class ListUsersQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, example: 50 })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque: the next_cursor of the previous page' })
  @Optional()
  @IsString()
  @MaxLength(512)
  cursor?: string;

  @ApiPropertyOptional({
    example: 'ada',
    description: 'exact username, compared case-insensitively (NFKC): at most one item',
  })
  @Optional()
  @IsString()
  @MaxLength(200)
  username?: string;
}

/** GET /admin/users/:id/grants?limit=&cursor= */
export class ListGrantsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, example: 50 })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'opaque: the next_cursor of the previous page' })
  @Optional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}
