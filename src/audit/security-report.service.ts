import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { auditConfig, type AuditConfig } from '../config/config.namespaces';
import { LatchkeyExtensions } from '../extensions/latchkey-extensions';
import { REPORT_RULES } from './rules';
import { failureRate } from './rules/failure-rate-spike.rule';
import {
  Finding,
  ReportRule,
  ReportWindow,
  resolveThresholds,
  SEVERITY_ORDER,
  unknownThresholds,
  WindowTotals,
} from './rules/report-rule';
import { SecurityReportRepository, TimelineBucket } from './security-report.repository';

/** docs/audit.md: the security report for one window. */
export interface SecurityReport {
  window: { from: string; to: string };
  total_requests: number;
  failures: number;
  failure_rate: number;
  by_type: Record<string, number>;
  findings: Finding[];
  suspicious_patterns: string[];
}

/** Rules run at most this many at a time (each is one SQL statement). */
const RULE_CONCURRENCY = 3;

/**
 * Computes the report in SQL: summary aggregates plus one statement per rule (src/audit/rules), all
 * over [from, to). Nothing proportional to the number of events is loaded into memory.
 */
@Injectable()
export class SecurityReportService implements OnModuleInit {
  private readonly logger = new Logger('SecurityReport');

  constructor(
    private readonly repository: SecurityReportRepository,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
    @Optional() private readonly extensions?: LatchkeyExtensions,
  ) {}

  /** The built-in rules, then those of extensions (docs/extending.md). */
  private allRules(): readonly ReportRule[] {
    const extra = this.extensions?.reportRules ?? [];
    return extra.length ? [...REPORT_RULES, ...extra] : REPORT_RULES;
  }

  onModuleInit(): void {
    const unknown = unknownThresholds(this.allRules(), this.config.reportThresholds);
    if (unknown.length)
      this.logger.warn(
        `unknown report threshold(s), ignored: ${unknown.join(', ')} (see docs/audit.md, Rules)`,
      );
  }

  /** Every rule with its effective thresholds (for the HTML page and the README). */
  rules(): Array<{ rule: ReportRule; thresholds: Record<string, number> }> {
    return this.allRules().map((rule) => ({
      rule,
      thresholds: resolveThresholds(rule, this.config.reportThresholds),
    }));
  }

  async generate(
    window: ReportWindow,
    rules: readonly ReportRule[] = this.allRules(),
  ): Promise<SecurityReport> {
    const memo = new Map<string, ReturnType<SecurityReportRepository['summary']>>();
    const summaryOf = (w: ReportWindow) => {
      const key = `${w.from.toISOString()}/${w.to.toISOString()}`;
      let p = memo.get(key);
      if (!p) {
        p = this.repository.summary(w);
        memo.set(key, p);
      }
      return p;
    };
    const totals = async (w: ReportWindow): Promise<WindowTotals> => (await summaryOf(w)).totals;
    const [{ totals: summary, byType }, perRule] = await Promise.all([
      summaryOf(window),
      mapLimited(rules, RULE_CONCURRENCY, (rule) =>
        rule.query({
          window,
          thresholds: resolveThresholds(rule, this.config.reportThresholds),
          sql: this.repository.sql,
          totals,
          withRollups: (fn) => this.repository.withCoverage(window, fn),
        }),
      ),
    ]);
    const findings = perRule
      .flat()
      .sort(
        (a, b) =>
          SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
          b.count - a.count ||
          a.rule.localeCompare(b.rule),
      );
    return {
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      total_requests: summary.requests,
      failures: summary.failures,
      failure_rate: Math.round(failureRate(summary) * 10_000) / 10_000,
      by_type: byType,
      findings,
      suspicious_patterns: findings.map((f) => f.description),
    };
  }

  /** Failures over time for the HTML chart: about 48 buckets of a round size. */
  async timeline(window: ReportWindow): Promise<{ bucketSeconds: number; buckets: TimelineBucket[] }> {
    const bucketSeconds = bucketSize(window);
    return { bucketSeconds, buckets: await this.repository.timeline(window, bucketSeconds) };
  }
}

const ROUND_BUCKETS = [60, 120, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];

/** The smallest round bucket giving at most ~48 bars over the window. */
export function bucketSize(window: ReportWindow, maxBars = 48): number {
  const seconds = Math.max(1, (window.to.getTime() - window.from.getTime()) / 1000);
  return ROUND_BUCKETS.find((b) => seconds / b <= maxBars) ?? Math.ceil(seconds / maxBars / 86400) * 86400;
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
