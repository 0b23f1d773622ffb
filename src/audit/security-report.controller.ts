import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../common/http';
import { AuditEmitter } from '../common/events';
import { RequireScopes } from '../keys/api-auth.guard';
import { badRequest, parseRange, principalOf, wants } from './audit-http';
import { SecurityReportQueryDto } from './dto/security-report-query.dto';
import { renderSecurityReport } from './security-report.html';
import { SecurityReportService } from './security-report.service';

const DAY_MS = 86_400_000;
/** Longest window a report may cover. */
export const MAX_REPORT_DAYS = 366;

/** GET /audit/reports/security (CONTRACT.md, Audit API): JSON, or an HTML page with `Accept: text/html`. */
@ApiTags('audit')
@Controller('audit')
@RequireScopes('audit:read')
export class SecurityReportController {
  constructor(
    private readonly reports: SecurityReportService,
    private readonly audit: AuditEmitter,
  ) {}

  @Get('reports/security')
  @ApiOperation({
    summary: 'Security report for [from, to) (default: the last 24 hours)',
    description: 'window, total_requests, failures, failure_rate, by_type, findings, suspicious_patterns',
  })
  @ApiProduces('application/json', 'text/html')
  @ApiOkResponse({ description: 'the security report' })
  async report(@Query() query: SecurityReportQueryDto, @Req() req: HttpRequest, @Res() res: HttpReply) {
    const range = parseRange(query.from, query.to);
    const to = range.to ?? (range.from ? new Date() : new Date());
    const from = range.from ?? new Date(to.getTime() - DAY_MS);
    if (from.getTime() >= to.getTime())
      throw badRequest(range.to ? 'to' : 'from', 'the window must end after it starts (to is exclusive)');
    if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * DAY_MS)
      throw badRequest('from', `a report covers at most ${MAX_REPORT_DAYS} days`);
    const window = { from, to };
    const html = wants(req, query.format, 'html');

    const report = await this.reports.generate(window);
    const auditor = principalOf(req).clientId;
    await this.audit.record({
      type: 'audit.report_generated',
      outcome: 'success',
      clientId: auditor,
      subject: auditor,
      details: {
        window: report.window,
        format: html ? 'html' : 'json',
        findings: report.findings.length,
      },
    });
    res.header('Cache-Control', 'no-store');
    if (!html) {
      res.send(report);
      return;
    }
    const timeline = await this.reports.timeline(window);
    void res
      .type('text/html; charset=utf-8')
      .send(renderSecurityReport(report, timeline, this.reports.rules()));
  }
}
