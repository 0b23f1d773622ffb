import { auditRowColumns, type AuditRow } from './audit-row';
import { MAX_STRING } from './audit-sanitizer';

/*
 * The audit trail's SQL for statements of other modules. A hot-path statement (the authorize statement, the code
 * exchange) writes its request's events itself, in its own transaction, so that the change and its events make one
 * commit instead of two (docs/performance.md). The audit module still decides every value of the row (the staged
 * row, AuditListener.stage) and owns its shape here; the statement only says when the row is written and fills
 * what only it knows.
 */

/** The columns an audit_events row is written with (AuditEventsRepository, and the insert below). */
export const AUDIT_COLUMNS =
  'occurred_at, type, outcome, error_code, reason, client_id, subject, ip, user_agent, duration_ms, request_id, ' +
  'details, request_first, request_first_failure';

/** A staged row as the one jsonb parameter `insertStagedAudit` reads (its keys are the column names). */
export function stagedAuditRow(row: AuditRow): string {
  return JSON.stringify({
    ...auditRowColumns(row),
    request_first: row.requestFirst,
    request_first_failure: row.requestFirstFailure,
  });
}

/**
 * An `INSERT INTO audit_events` (for a `WITH` list) of the staged row `row` (an SQL expression of type jsonb, e.g.
 * `$14::jsonb` or a column; NULL writes nothing) once per row of `from` that `where` keeps. `subject` and
 * `details` may replace the staged values with what the statement found (e.g. the session's user); `a` is the
 * staged row in those expressions.
 */
export function insertStagedAudit(opts: {
  row: string;
  from: string;
  where?: string;
  subject?: string;
  details?: string;
}): string {
  const { row, from, where = 'true', subject = 'a.subject', details = 'a.details' } = opts;
  return `INSERT INTO audit_events (${AUDIT_COLUMNS})
         SELECT a.occurred_at, a.type, a.outcome, a.error_code, a.reason, a.client_id, ${subject}, a.ip, a.user_agent,
                a.duration_ms, a.request_id, ${details}, a.request_first, a.request_first_failure
           FROM ${from} CROSS JOIN LATERAL jsonb_populate_record(NULL::audit_events, ${row}) a
          WHERE ${row} IS NOT NULL AND (${where})`;
}

/**
 * `details` of a staged row with values only the statement knows added (SQL expressions by key; each a string or
 * uuid, bounded as the sanitizer bounds a details string).
 */
export function stagedDetailsWith(values: Record<string, string>): string {
  const pairs = Object.entries(values).map(([key, expr]) => `'${key}', left((${expr})::text, ${MAX_STRING})`);
  return `a.details || jsonb_build_object(${pairs.join(', ')})`;
}
