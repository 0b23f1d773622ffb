import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditEmitter } from '../common/events';
import { RequireScopes } from '../keys/api-auth.guard';
import { streamCsv } from './audit-csv';
import { AuditEventsService } from './audit-events.service';
import { parseRange, principalOf, wants } from './audit-http';
import { AuditEventsQueryDto } from './dto/audit-events-query.dto';

const DEFAULT_LIMIT = 50;

/** GET /audit/events (CONTRACT.md, Audit API): filters, cursor pages newest first, CSV on request. */
@ApiTags('audit')
@Controller('audit')
@RequireScopes('audit:read')
export class AuditEventsController {
  constructor(
    private readonly events: AuditEventsService,
    private readonly audit: AuditEmitter,
  ) {}

  @Get('events')
  @ApiOperation({
    summary: 'Audit events, newest first',
    description:
      'JSON `{items, next_cursor}`; `Accept: text/csv` or `format=csv` streams every matching event as CSV ' +
      '(capped by `limit` only when given).',
  })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ description: '{ items: AuditEvent[], next_cursor: string | null }' })
  async list(@Query() query: AuditEventsQueryDto, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { from, to } = parseRange(query.from, query.to);
    const filters = {
      from,
      to,
      type: query.type,
      outcome: query.outcome,
      clientId: query.client_id,
      ip: query.ip,
    };
    const csv = wants(req, query.format, 'csv');
    const auditor = principalOf(req).clientId;
    await this.audit.record({
      type: 'audit.queried',
      outcome: 'success',
      clientId: auditor,
      subject: auditor,
      details: {
        format: csv ? 'csv' : 'json',
        filters: {
          from: from?.toISOString() ?? null,
          to: to?.toISOString() ?? null,
          type: query.type ?? null,
          outcome: query.outcome ?? null,
          client_id: query.client_id ?? null,
          ip: query.ip ?? null,
          limit: query.limit ?? null,
          page: query.cursor ? 'next' : 'first',
        },
      },
    });
    res.setHeader('Cache-Control', 'no-store');
    if (!csv) {
      res.json(await this.events.page(filters, query.limit ?? DEFAULT_LIMIT, query.cursor));
      return;
    }
    res.status(200);
    res.setHeader('Content-Type', 'text/csv; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="audit-events.csv"');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    try {
      await streamCsv(res, this.events.all(filters, query.cursor, query.limit ?? Infinity));
    } catch (err) {
      // the status line is gone already: cut the response so the client sees an incomplete transfer
      res.destroy(err as Error);
    }
  }
}
