import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_EVENT_TYPES } from '../../events/events';
import { IsAuditCursor, IsIpOrCidr, IsRfc3339 } from './audit-query.validators';

/** GET /audit/events query (docs/audit.md). Unknown parameters are refused (400 naming them). */
export class AuditEventsQueryDto {
  @ApiPropertyOptional({ description: 'RFC 3339, inclusive', example: '2025-01-01T00:00:00Z' })
  @IsOptional()
  @IsRfc3339()
  from?: string;

  @ApiPropertyOptional({ description: 'RFC 3339, exclusive', example: '2025-01-02T00:00:00Z' })
  @IsOptional()
  @IsRfc3339()
  to?: string;

  @ApiPropertyOptional({ enum: AUDIT_EVENT_TYPES })
  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES, { message: 'type must be an audit event type (see EVENTS.md)' })
  type?: string;

  @ApiPropertyOptional({ enum: ['success', 'failure'] })
  @IsOptional()
  @IsIn(['success', 'failure'])
  outcome?: 'success' | 'failure';

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(128)
  client_id?: string;

  @ApiPropertyOptional({ description: 'an IP address or a CIDR block' })
  @IsOptional()
  @IsIpOrCidr()
  ip?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer between 1 and 1000' })
  @Min(1, { message: 'limit must be an integer between 1 and 1000' })
  @Max(1000, { message: 'limit must be an integer between 1 and 1000' })
  limit?: number;

  @ApiPropertyOptional({ description: 'next_cursor of the previous page' })
  @IsOptional()
  @IsAuditCursor()
  cursor?: string;

  @ApiPropertyOptional({ enum: ['json', 'csv'], description: 'csv: same as Accept: text/csv' })
  @IsOptional()
  @IsIn(['json', 'csv'])
  format?: 'json' | 'csv';
}
