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
