import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { AuditCountUpdate } from '../events/refusal-auditor';
import { preparedSql, sql } from '../database/sql';
import type { AuditRow } from './audit-row';
import { AUDIT_COLUMNS } from './audit-sql';

/** Filters of GET /audit/events (all optional; `to` exclusive). */
export interface AuditEventFilters {
  from?: Date;
  to?: Date;
  type?: string;
  outcome?: 'success' | 'failure';
  clientId?: string;
  /** an address or a CIDR block (`ip <<= $n`) */
  ip?: string;
}

/** Keyset position: the last row of the previous page (occurred_at to the microsecond, id). */
export interface AuditCursorPosition {
  occurredAt: string;
  id: string;
}

/** An event as the auditor API returns it (docs/audit.md). */
export interface AuditEventView {
  id: string;
  occurred_at: string;
  type: string;
  outcome: string;
  error_code: string | null;
  client_id: string | null;
  subject: string | null;
  ip: string | null;
  user_agent: string | null;
  duration_ms: number | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export interface AuditEventPage {
  items: AuditEventView[];
  /** position after the last item when more rows may follow, else null */
  next: AuditCursorPosition | null;
}

/**
 * The only place that reads and writes audit_events rows. Inserts are multi-row (one statement per
 * group commit) through unnest() of one array per column: one parameter per column whatever the batch size.
 */
@Injectable()
export class AuditEventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts the rows in one statement, in `manager`'s transaction when given (revocations). */
  async insertMany(rows: AuditRow[], manager?: EntityManager): Promise<void> {
    if (rows.length === 0) return;
    const text = `INSERT INTO audit_events (${AUDIT_COLUMNS})
       SELECT * FROM unnest($1::timestamptz[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[],
                            $6::varchar[], $7::varchar[], $8::inet[], $9::varchar[], $10::int[], $11::varchar[],
                            $12::jsonb[], $13::boolean[], $14::boolean[])`;
    const params = [
      rows.map((r) => r.occurredAt),
      rows.map((r) => r.type),
      rows.map((r) => r.outcome),
      rows.map((r) => r.errorCode),
      rows.map((r) => r.reason),
      rows.map((r) => r.clientId),
      rows.map((r) => r.subject),
      rows.map((r) => r.ip),
      rows.map((r) => r.userAgent),
      rows.map((r) => r.durationMs),
      rows.map((r) => r.requestId),
      rows.map((r) => JSON.stringify(r.details)),
      rows.map((r) => r.requestFirst),
      rows.map((r) => r.requestFirstFailure),
    ];
    // the group commit's statement (one text whatever the batch size) is prepared once per connection
    if (manager) await manager.query(text, params);
    else await preparedSql(this.dataSource, 'latchkey_insert_audit_events', text, params);
  }

  /**
   * Sets `details.count` of aggregated rows (RefusalAuditor): each is found by its type, its `aggregate_id` and
   * a lower bound on its time (the type index and partition pruning keep the lookup to the window's rows).
   */
  async setCounts(updates: AuditCountUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const since = new Date(Math.min(...updates.map((u) => u.since.getTime())));
    await sql(
      this.dataSource,
      `UPDATE audit_events a SET details = jsonb_set(a.details, '{count}', to_jsonb(v.count))
         FROM unnest($1::varchar[], $2::text[], $3::int[]) AS v(type, aggregate_id, count)
        WHERE a.type = v.type AND a.occurred_at >= $4 AND a.details->>'aggregate_id' = v.aggregate_id`,
      [updates.map((u) => u.type), updates.map((u) => u.aggregateId), updates.map((u) => u.count), since],
    );
  }

  /** One page, newest first: ORDER BY occurred_at DESC, id DESC, keyset after `cursor`. */
  async findPage(
    filters: AuditEventFilters,
    limit: number,
    cursor?: AuditCursorPosition,
  ): Promise<AuditEventPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(sql(`$${params.length}`));
    };
    if (filters.from) add((p) => `occurred_at >= ${p}`, filters.from);
    if (filters.to) add((p) => `occurred_at < ${p}`, filters.to);
    if (filters.type) add((p) => `type = ${p}`, filters.type);
    if (filters.outcome) add((p) => `outcome = ${p}`, filters.outcome);
    if (filters.clientId) add((p) => `client_id = ${p}`, filters.clientId);
    if (filters.ip) add((p) => `ip <<= ${p}::inet`, filters.ip);
    if (cursor) {
      params.push(cursor.occurredAt, cursor.id);
      where.push(`(occurred_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    params.push(limit + 1);
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT id::text AS id, occurred_at,
              to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position,
              type, outcome, error_code, client_id, subject, host(ip) AS ip, user_agent, duration_ms,
              request_id, details
         FROM audit_events
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY occurred_at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const last = page[page.length - 1];
    return {
      items: page.map(toView),
      next: more && last ? { occurredAt: String(last.position), id: String(last.id) } : null,
    };
  }
}

function toView(row: Record<string, unknown>): AuditEventView {
  const details = typeof row.details === 'string' ? JSON.parse(row.details) : row.details;
  return {
    id: String(row.id),
    occurred_at: new Date(row.occurred_at as string | Date).toISOString(),
    type: row.type as string,
    outcome: row.outcome as string,
    error_code: (row.error_code as string | null) ?? null,
    client_id: (row.client_id as string | null) ?? null,
    subject: (row.subject as string | null) ?? null,
    ip: (row.ip as string | null) ?? null,
    user_agent: (row.user_agent as string | null) ?? null,
    duration_ms: row.duration_ms === null || row.duration_ms === undefined ? null : Number(row.duration_ms),
    request_id: (row.request_id as string | null) ?? null,
    details: (details as Record<string, unknown>) ?? {},
  };
}
