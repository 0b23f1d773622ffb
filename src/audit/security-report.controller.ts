import { Controller, Get, HttpException, Inject, Query, Req, Res } from '@nestjs/common';
import { isStatementTimeout } from '../common/database-errors';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { HttpReply, HttpRequest } from '../http/http';
import { AuditEmitter } from '../events/events';
import { auditConfig, type AuditConfig } from '../config/config.namespaces';
import { AuditQueryLimiter } from './audit-query-limiter';
import { RequireScopes } from '../api-auth/api-auth.guard';
import { badRequest, parseRange, principalOf, wants } from './audit-http';
import { SecurityReportQueryDto } from './dto/security-report-query.dto';
import { renderSecurityReport } from './security-report.html';
import { SecurityReportService } from './security-report.service';

const DAY_MS = 86_400_000;

/** GET /audit/reports/security (docs/audit.md): JSON, or an HTML page with `Accept: text/html`. */
@ApiTags('audit')
@Controller('audit')
@RequireScopes('audit:read')
export class SecurityReportController {
  constructor(
    private readonly reports: SecurityReportService,
    private readonly audit: AuditEmitter,
    private readonly limiter: AuditQueryLimiter,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
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
    // the longest window is a setting (AUDIT_REPORT_MAX_WINDOW): a report's cost grows with its window
    if (to.getTime() - from.getTime() > this.config.reportMaxWindow * 1000)
      throw badRequest('from', `a report covers at most ${describeSeconds(this.config.reportMaxWindow)}`);
    const window = { from, to };
    const html = wants(req, query.format, 'html');
    const auditor = principalOf(req).clientId;

    await this.limiter.run('/audit/reports/security', res, auditor, () =>
      this.respond(window, html, auditor, res),
    );
  }

  private async respond(window: { from: Date; to: Date }, html: boolean, auditor: string, res: HttpReply) {
    const report = await this.reports.generate(window).catch((err: unknown) => {
      if (!isStatementTimeout(err)) throw err;
      void res.header('Retry-After', '60');
      throw new HttpException(
        {
          statusCode: 503,
          error: 'Service Unavailable',
          message: [
            `the report took longer than ${this.config.statementTimeoutMs} ms (AUDIT_STATEMENT_TIMEOUT_MS): ask for a shorter window`,
          ],
        },
        503,
      );
    });
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

function describeSeconds(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hours`;
  return `${seconds} s`;
}
