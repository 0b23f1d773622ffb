import { Injectable, Module } from '@nestjs/common';
import {
  groupedSql,
  plural,
  ReportRuleExtension,
  toFinding,
  type Finding,
  type GroupRow,
  type ReportRule,
  type RuleContext,
} from '../../../src/extensions';

/**
 * (a) A report rule of the team's own: a client that keeps asking the token endpoint for scopes it is not
 * registered for (`token.request_failed` / `invalid_scope`) — a misconfigured deployment, or someone trying a
 * stolen client's credentials against other APIs. Threshold: REPORT_INVALID_SCOPE_REQUESTS_COUNT (default 3).
 */
@Injectable()
@ReportRuleExtension()
export class InvalidScopeRequestsRule implements ReportRule {
  readonly name = 'invalid_scope_requests';
  readonly severity = 'low' as const;
  readonly defaults = { count: 3 };
  readonly summary = '≥ 3 token requests of one client for scopes it is not registered for';

  async query({ window, thresholds, sql }: RuleContext): Promise<Finding[]> {
    const q = groupedSql(`type = 'token.request_failed' AND reason = 'invalid_scope'`, [
      { subject: 'client_id', min: thresholds.count },
    ]);
    const rows = await sql<GroupRow>(q.text, q.params(window));
    return rows.map((row) =>
      toFinding(
        this,
        row,
        (r) =>
          `client_id ${JSON.stringify(r.subject_value)}: ${plural(Number(r.count), 'token request')} for scopes ` +
          `it is not registered for (threshold ${thresholds.count}) — a misconfigured client, or its credentials tried elsewhere`,
      ),
    );
  }
}

/** The module the team registers: one provider, nothing of Latchkey's edited. */
@Module({ providers: [InvalidScopeRequestsRule] })
export class InvalidScopeRequestsModule {}
