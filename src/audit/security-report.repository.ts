import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { ReportWindow, Sql, WindowTotals } from './rules/report-rule';

export interface TimelineBucket {
  start: Date;
  events: number;
  failures: number;
}

/** The report's aggregations over audit_events (rules bring their own SQL and run it through `sql`). */
@Injectable()
export class SecurityReportRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  readonly sql: Sql = (text, params) => this.dataSource.query(text, params);

  /**
   * Requests (distinct request_id) and failed requests (distinct request_id with a failure event).
   * The distinct counts are hash aggregates over a subquery, which PostgreSQL runs much faster (and in
   * parallel) than count(DISTINCT …).
   */
  async totals(window: ReportWindow): Promise<WindowTotals> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT count(*)::int AS requests,
              count(*) FILTER (WHERE failed > 0)::int AS failures,
              COALESCE(sum(failed), 0)::int AS failure_events,
              min(first_failure) AS first_failure,
              max(last_failure) AS last_failure
         FROM (SELECT request_id,
                      count(*) FILTER (WHERE outcome = 'failure') AS failed,
                      min(occurred_at) FILTER (WHERE outcome = 'failure') AS first_failure,
                      max(occurred_at) FILTER (WHERE outcome = 'failure') AS last_failure
                 FROM audit_events
                WHERE occurred_at >= $1 AND occurred_at < $2 AND request_id IS NOT NULL
                GROUP BY request_id) r`,
      [window.from, window.to],
    );
    const r = rows[0] ?? {};
    return {
      requests: Number(r.requests ?? 0),
      failures: Number(r.failures ?? 0),
      failureEvents: Number(r.failure_events ?? 0),
      firstFailure: r.first_failure ? new Date(r.first_failure as string) : null,
      lastFailure: r.last_failure ? new Date(r.last_failure as string) : null,
    };
  }

  /** Events per type in the window. */
  async byType(window: ReportWindow): Promise<Record<string, number>> {
    const rows: Array<{ type: string; n: number | string }> = await this.dataSource.query(
      `SELECT type, count(*)::int AS n FROM audit_events
        WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY type ORDER BY type`,
      [window.from, window.to],
    );
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  }

  /** Events and failure events per bucket of `bucketSeconds`, from window.from (empty buckets omitted). */
  async timeline(window: ReportWindow, bucketSeconds: number): Promise<TimelineBucket[]> {
    const rows: Array<{ bucket: number | string; events: number | string; failures: number | string }> =
      await this.dataSource.query(
        `SELECT floor(extract(epoch FROM (occurred_at - $1::timestamptz)) / $3)::int AS bucket,
                count(*)::int AS events, count(*) FILTER (WHERE outcome = 'failure')::int AS failures
           FROM audit_events WHERE occurred_at >= $1 AND occurred_at < $2
          GROUP BY 1 ORDER BY 1`,
        [window.from, window.to, bucketSeconds],
      );
    return rows.map((r) => ({
      start: new Date(window.from.getTime() + Number(r.bucket) * bucketSeconds * 1000),
      events: Number(r.events),
      failures: Number(r.failures),
    }));
  }
}
