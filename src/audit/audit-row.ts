import type { AuditEventPayload } from '../events/events';
import type { RequestFlags } from './audit-request-tracker';
import { cleanText, sanitizeDetails, validDuration, validInet } from './audit-sanitizer';

/** A user agent is stored bounded (an attacker writes it): enough for every real browser's. */
export const USER_AGENT_MAX = 256;

/** One audit_events row as written (column lengths from the initial migration). */
export interface AuditRow {
  occurredAt: Date;
  type: string;
  outcome: 'success' | 'failure';
  errorCode: string | null;
  reason: string | null;
  clientId: string | null;
  subject: string | null;
  ip: string | null;
  userAgent: string | null;
  durationMs: number | null;
  requestId: string | null;
  details: Record<string, unknown>;
  /** first event of its request / first failure event of its request (AuditRequestTracker) */
  requestFirst: boolean;
  requestFirstFailure: boolean;
}

/** The stored form of an emitted event: every field bounded and cleaned, details sanitized. */
export function toAuditRow(
  payload: AuditEventPayload,
  flags: RequestFlags = {
    requestFirst: !!payload.requestId,
    requestFirstFailure: !!payload.requestId && payload.outcome !== 'success',
  },
): AuditRow {
  const reason = cleanText(payload.reason, 64);
  const occurredAt =
    payload.occurredAt instanceof Date && !Number.isNaN(payload.occurredAt.getTime())
      ? payload.occurredAt
      : new Date();
  return {
    occurredAt,
    type: cleanText(payload.type, 64) ?? 'unknown',
    outcome: payload.outcome === 'success' ? 'success' : 'failure',
    errorCode: cleanText(payload.errorCode, 64),
    reason,
    clientId: cleanText(payload.clientId, 128),
    subject: cleanText(payload.subject, 128),
    ip: validInet(payload.ip),
    userAgent: cleanText(payload.userAgent, USER_AGENT_MAX),
    durationMs: validDuration(payload.durationMs),
    requestId: cleanText(payload.requestId, 64),
    details: sanitizeDetails(payload.details, reason),
    requestFirst: flags.requestFirst,
    requestFirstFailure: flags.requestFirstFailure,
  };
}

/** A row by its column names (what an audit sink receives, and a staged row's jsonb without the request flags). */
export interface AuditRowColumns {
  occurred_at: string;
  type: string;
  outcome: 'success' | 'failure';
  error_code: string | null;
  reason: string | null;
  client_id: string | null;
  subject: string | null;
  ip: string | null;
  user_agent: string | null;
  duration_ms: number | null;
  request_id: string | null;
  details: Record<string, unknown>;
}

export function auditRowColumns(row: AuditRow): AuditRowColumns {
  return {
    occurred_at: row.occurredAt.toISOString(),
    type: row.type,
    outcome: row.outcome,
    error_code: row.errorCode,
    reason: row.reason,
    client_id: row.clientId,
    subject: row.subject,
    ip: row.ip,
    user_agent: row.userAgent,
    duration_ms: row.durationMs,
    request_id: row.requestId,
    details: row.details,
  };
}
