import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../http/keyset-cursor';
import { Optional } from './validators';

export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../http/keyset-cursor';

/** GET /admin/clients?limit=&cursor= */
export class ListClientsQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, example: 50 })
  @Optional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({
    description: 'opaque: the next_cursor of the previous page',
    example: 'eyJ0IjoiMjAyNi0wMS0wMlQwMzowNDowNS4wMDAwMDBaIiwiaSI6ImxrX2FiYyJ9',
  })
  @Optional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}
