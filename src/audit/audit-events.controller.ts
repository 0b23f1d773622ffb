import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../http/http';
import { AuditEmitter } from '../events/events';
import { RequireScopes } from '../api-auth/api-auth.guard';
import { streamCsv } from './audit-csv';
import { AuditEventsService } from './audit-events.service';
import { AuditQueryLimiter } from './audit-query-limiter';
import { parseRange, principalOf, wants } from './audit-http';
import { AuditEventsQueryDto } from './dto/audit-events-query.dto';

const DEFAULT_LIMIT = 50;

/** GET /audit/events (docs/audit.md): filters, cursor pages newest first, CSV on request. */
@ApiTags('audit')
@Controller('audit')
@RequireScopes('audit:read')
export class AuditEventsController {
  constructor(
    private readonly events: AuditEventsService,
    private readonly audit: AuditEmitter,
    private readonly limiter: AuditQueryLimiter,
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
  async list(
    @Query() query: AuditEventsQueryDto,
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
  ): Promise<void> {
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
    res.header('Cache-Control', 'no-store');
    if (!csv) {
      res.send(await this.events.page(filters, query.limit ?? DEFAULT_LIMIT, query.cursor));
      return;
    }
    // a full export is the most expensive read there is: bounded with the reports (AUDIT_QUERY_CONCURRENCY)
    await this.limiter.run('/audit/events', res, auditor, () => this.exportCsv(filters, query, res));
  }

  private async exportCsv(
    filters: Parameters<AuditEventsService['all']>[0],
    query: AuditEventsQueryDto,
    res: HttpReply,
  ): Promise<void> {
    // streamed straight to the socket with back-pressure: the reply's headers so far (security headers,
    // X-Request-Id, Cache-Control) go out with the CSV's own
    res.hijack();
    res.raw.writeHead(200, {
      ...(res.getHeaders() as Record<string, string>),
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="audit-events.csv"',
      'x-content-type-options': 'nosniff',
    });
    try {
      await streamCsv(res.raw, this.events.all(filters, query.cursor, query.limit ?? Infinity));
    } catch (err) {
      // the status line is gone already: cut the response so the client sees an incomplete transfer
      res.raw.destroy(err as Error);
    }
  }
}
