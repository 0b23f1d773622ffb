import { Inject, Injectable } from '@nestjs/common';
import { auditConfig, type AuditConfig } from '../config/config.namespaces';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isEmbedded } from '../database/data-source';
import { bucketCoverage, coverage, type Coverage, rangesSql } from './audit-rollup-coverage';
import { AuditRollupsRepository } from './audit-rollups.repository';
import type { ReportWindow, Sql, WindowTotals } from './rules/report-rule';

/** work_mem of a report query (PostgreSQL); at most RULE_CONCURRENCY + 1 queries run at once. */
export const REPORT_WORK_MEM = '64MB';

export interface TimelineBucket {
  start: Date;
  events: number;
  failures: number;
}

/** The report's aggregations over audit_events (rules bring their own SQL and run it through `sql`). */
@Injectable()
export class SecurityReportRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
    private readonly rollups: AuditRollupsRepository,
  ) {}

  /**
   * Runs one report query. On PostgreSQL each runs in its own short transaction with more memory for its
   * aggregates (no spill to disk over a month of events), without JIT compilation (which costs more
   * than it saves on these one-off queries) and with a statement timeout (AUDIT_STATEMENT_TIMEOUT_MS: a
   * report never holds a connection and the disk for minutes): settings local to the transaction, nothing
   * else affected. PGlite cannot cancel a running statement (it runs synchronously in this thread; its
   * statement_timeout never fires): there the concurrency bound and the window cap are what limit a report.
   */
  readonly sql: Sql = async <T>(text: string, params: unknown[]): Promise<T[]> => {
    if (isEmbedded(this.dataSource)) return this.dataSource.query(text, params);
    return this.dataSource.transaction(async (m) => {
      await m.query(
        `SELECT set_config('work_mem', $1, true), set_config('jit', 'off', true), set_config('statement_timeout', $2, true)`,
        [REPORT_WORK_MEM, `${this.config.statementTimeoutMs}ms`],
      );
      return m.query(text, params);
    });
  };

  /**
   * Runs `fn` with an Sql of one REPEATABLE READ transaction (one snapshot for all its statements), with the
   * settings of `sql` on PostgreSQL.
   */
  private inSnapshot<T>(fn: (query: Sql, manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (m) => {
      if (!isEmbedded(this.dataSource))
        await m.query(
          `SELECT set_config('work_mem', $1, true), set_config('jit', 'off', true), set_config('statement_timeout', $2, true)`,
          [REPORT_WORK_MEM, `${this.config.statementTimeoutMs}ms`],
        );
      const query: Sql = <R>(text: string, params: unknown[]) => m.query(text, params) as Promise<R[]>;
      return fn(query, m);
    });
  }

  /**
   * Runs `fn` in one snapshot with the window's coverage by the rollups valid in that snapshot
   * (RuleContext.withRollups).
   */
  withCoverage<T>(window: ReportWindow, fn: (query: Sql, covered: Coverage) => Promise<T>): Promise<T> {
    return this.inSnapshot(async (query, m) =>
      fn(query, coverage(window, await this.rollups.validDays(window.from, window.to, m))),
    );
  }

  /**
   * Events per type, requests (distinct request_id) and failed requests (distinct request_id with a failure
   * event) of the window. Each row says whether it is its request's first event / first failure (set when
   * stored, see AuditRequestTracker), so the distinct counts are filtered counts; rows from before those
   * flags existed count as one request each. Whole hours of closed days come from their rollups
   * (AuditRollupsRepository), the rest from the rows, all in one snapshot: a day changed since its rollup is
   * marked stale in the same transaction as the change, so the snapshot sees either both or neither.
   */
  async summary(window: ReportWindow): Promise<{ totals: WindowTotals; byType: Record<string, number> }> {
    const rows = await this.withCoverage(window, async (query, { rolledUp, raw }) => {
      const params: unknown[] = [];
      const parts: string[] = [];
      if (raw.length)
        parts.push(`SELECT type, count(*) AS events,
                count(*) FILTER (WHERE COALESCE(request_first, request_id IS NOT NULL)) AS requests,
                count(*) FILTER (WHERE COALESCE(request_first_failure, request_id IS NOT NULL AND outcome = 'failure'))
                  AS failed_requests,
                count(*) FILTER (WHERE outcome = 'failure') AS failure_events,
                min(occurred_at) FILTER (WHERE outcome = 'failure') AS first_failure,
                max(occurred_at) FILTER (WHERE outcome = 'failure') AS last_failure
           FROM audit_events
          WHERE ${rangesSql('occurred_at', raw, params)}
          GROUP BY type`);
      if (rolledUp.length)
        parts.push(`SELECT type, sum(events) AS events, sum(requests) AS requests, sum(failed_requests) AS failed_requests,
                sum(failure_events) AS failure_events, min(first_failure) AS first_failure, max(last_failure) AS last_failure
           FROM audit_rollup_hours
          WHERE ${rangesSql('hour', rolledUp, params)}
          GROUP BY type`);
      if (parts.length === 0) return []; // an empty window
      return query<Record<string, unknown>>(
        `SELECT type, sum(events)::int AS events, sum(requests)::int AS requests,
                sum(failed_requests)::int AS failed_requests, sum(failure_events)::int AS failure_events,
                min(first_failure) AS first_failure, max(last_failure) AS last_failure
           FROM (${parts.join('\n UNION ALL \n')}) parts
          GROUP BY type ORDER BY type`,
        params,
      );
    });
    const totals: WindowTotals = {
      requests: 0,
      failures: 0,
      failureEvents: 0,
      firstFailure: null,
      lastFailure: null,
    };
    const byType: Record<string, number> = {};
    for (const r of rows) {
      byType[r.type as string] = Number(r.events);
      totals.requests += Number(r.requests);
      totals.failures += Number(r.failed_requests);
      totals.failureEvents += Number(r.failure_events);
      const first = r.first_failure ? new Date(r.first_failure as string) : null;
      const last = r.last_failure ? new Date(r.last_failure as string) : null;
      if (first && (!totals.firstFailure || first < totals.firstFailure)) totals.firstFailure = first;
      if (last && (!totals.lastFailure || last > totals.lastFailure)) totals.lastFailure = last;
    }
    return { totals, byType };
  }

  /**
   * Events and failure events per bucket of `bucketSeconds`, from window.from (empty buckets omitted): whole
   * rolled-up hours inside one bucket from audit_rollup_hours, the rest from the rows, in one snapshot.
   */
  async timeline(window: ReportWindow, bucketSeconds: number): Promise<TimelineBucket[]> {
    const rows = await this.withCoverage(window, (query, covered) => {
      const { rolledUp, raw } = bucketCoverage(covered, window.from, bucketSeconds * 1000);
      const params: unknown[] = [window.from, bucketSeconds];
      const parts: string[] = [];
      if (raw.length)
        parts.push(`SELECT floor(extract(epoch FROM (occurred_at - $1::timestamptz)) / $2)::int AS bucket,
                count(*) AS events, count(*) FILTER (WHERE outcome = 'failure') AS failures
           FROM audit_events WHERE ${rangesSql('occurred_at', raw, params)}
          GROUP BY 1`);
      if (rolledUp.length)
        parts.push(`SELECT floor(extract(epoch FROM (hour - $1::timestamptz)) / $2)::int AS bucket,
                sum(events) AS events, sum(failure_events) AS failures
           FROM audit_rollup_hours WHERE ${rangesSql('hour', rolledUp, params)}
          GROUP BY 1`);
      if (parts.length === 0) return Promise.resolve([]);
      return query<{ bucket: number | string; events: number | string; failures: number | string }>(
        `SELECT bucket, sum(events)::int AS events, sum(failures)::int AS failures
           FROM (${parts.join('\n UNION ALL \n')}) parts
          GROUP BY bucket ORDER BY bucket`,
        params,
      );
    });
    return rows.map((r) => ({
      start: new Date(window.from.getTime() + Number(r.bucket) * bucketSeconds * 1000),
      events: Number(r.events),
      failures: Number(r.failures),
    }));
  }
}
