import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { IsRfc3339 } from './audit-query.validators';

/** GET /audit/reports/security query: the window (default: the last 24 hours). */
export class SecurityReportQueryDto {
  @ApiPropertyOptional({ description: 'RFC 3339, inclusive; default: `to` − 24 h' })
  @IsOptional()
  @IsRfc3339()
  from?: string;

  @ApiPropertyOptional({ description: 'RFC 3339, exclusive; default: now' })
  @IsOptional()
  @IsRfc3339()
  to?: string;

  @ApiPropertyOptional({ enum: ['json', 'html'], description: 'html: same as Accept: text/html' })
  @IsOptional()
  @IsIn(['json', 'html'])
  format?: 'json' | 'html';
}
