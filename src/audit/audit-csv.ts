import { stringify } from 'csv-stringify';
import { once, type EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { AuditEventView } from './audit-events.repository';

export const CSV_COLUMNS = [
  'id',
  'occurred_at',
  'type',
  'outcome',
  'error_code',
  'client_id',
  'subject',
  'ip',
  'user_agent',
  'duration_ms',
  'request_id',
  'details',
] as const;

/**
 * Spreadsheet formula injection (OWASP "CSV injection"): a cell starting with = + - @ or a control
 * character is prefixed with an apostrophe. User agents and client ids come from callers.
 */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function csvRecord(e: AuditEventView): Record<(typeof CSV_COLUMNS)[number], string | number | null> {
  const text = (v: string | null) => (v === null ? null : neutralizeCell(v));
  return {
    id: e.id,
    occurred_at: e.occurred_at,
    type: e.type,
    outcome: e.outcome,
    error_code: text(e.error_code),
    client_id: text(e.client_id),
    subject: text(e.subject),
    ip: e.ip,
    user_agent: text(e.user_agent),
    duration_ms: e.duration_ms,
    request_id: text(e.request_id),
    details: JSON.stringify(e.details),
  };
}

/**
 * Waits until `csv` drains or `out` closes, whichever comes first, and leaves no listener behind: a plain
 * `Promise.race` of two `once` calls kept the loser's listeners (and `once`'s own 'error' listeners) on the
 * streams until the response ended — thousands over a large export (issue 20, finding 6).
 */
async function drainOrClose(csv: EventEmitter, out: EventEmitter): Promise<void> {
  const stop = new AbortController();
  try {
    await Promise.race([
      once(csv, 'drain', { signal: stop.signal }),
      once(out, 'close', { signal: stop.signal }),
    ]);
  } finally {
    stop.abort();
  }
}

/**
 * Streams pages of events as CSV (csv-stringify, RFC 4180 quoting, header row) into `out`, honouring
 * back-pressure; stops fetching when the client goes away. Memory stays at one page, listeners constant.
 */
export async function streamCsv(out: Writable, pages: AsyncIterable<AuditEventView[]>): Promise<void> {
  const csv = stringify({ header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows' });
  csv.pipe(out);
  try {
    for await (const page of pages) {
      if (out.destroyed) break;
      for (const event of page) {
        if (!csv.write(csvRecord(event))) await drainOrClose(csv, out);
        if (out.destroyed) break;
      }
    }
  } finally {
    csv.end();
  }
  if (!out.destroyed) await finished(out).catch(() => undefined);
}
