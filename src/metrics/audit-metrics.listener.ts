import { AUDIT_REASONS } from '../events/audit-reasons';
import type { AuditEventInput, AuditEventPayload } from '../events/events';
import { GRANT_TYPES } from '../clients/client';
import { UNMATCHED_ROUTE } from './http-metrics';
import type { LatchkeyMetrics } from './latchkey-metrics';

const GRANTS = new Set<string>(GRANT_TYPES);
/** Distinct values a free-text label (endpoint, limit) may take before the rest count as `other`. */
const MAX_VALUES = 50;

/**
 * The security counters, from the one event vocabulary every module already emits (EVENTS.md): no module is
 * instrumented. MetricsModule subscribes it to AUDIT_EVENT, as the audit listener is (only when METRICS is on). Refusals an attacker can repeat
 * (`request.rate_limited`, `api.access_denied`) are written once per key and window by RefusalAuditor, which
 * tells REFUSAL_EVENT about every one of them: those are counted from there, and their audit event (it carries
 * `details.aggregate_id`) is not counted twice.
 */
export class AuditMetricsListener {
  private readonly seen = new Map<string, Set<string>>();

  /** `isRoute`: whether a path is one of the app's route patterns (a refused unmatched path is not a label). */
  constructor(
    private readonly metrics: LatchkeyMetrics,
    private readonly isRoute: (path: string) => boolean,
  ) {}

  onAuditEvent(event: AuditEventPayload): void {
    if (event.details && 'aggregate_id' in event.details) return;
    this.count(event);
  }

  onRefusal(event: AuditEventInput): void {
    this.count(event);
  }

  count(event: AuditEventInput): void {
    const m = this.metrics;
    const details = event.details ?? {};
    const reason = reasonOf(event);
    const grantType =
      typeof details.grant_type === 'string' && GRANTS.has(details.grant_type) ? details.grant_type : 'other';
    m.auditEvents.inc({ type: event.type, outcome: event.outcome });
    switch (event.type) {
      case 'token.issued':
        m.tokensIssued.inc({ grant_type: grantType });
        break;
      case 'token.request_failed':
        m.tokenRequestFailures.inc({ grant_type: grantType, reason });
        if (reason.startsWith('pkce_')) m.pkceFailures.inc({ stage: 'token', reason });
        break;
      case 'authorization.rejected':
        if (reason.startsWith('pkce_')) m.pkceFailures.inc({ stage: 'authorize', reason });
        break;
      case 'client.authentication_failed':
        m.clientAuthFailures.inc({ reason, endpoint: this.label('endpoint', details.endpoint) });
        break;
      case 'request.rate_limited':
        m.rateLimited.inc({ limit: this.label('limit', details.limit), route: this.route(details.route) });
        break;
      case 'api.access_denied':
        m.apiAccessDenied.inc({ reason });
        break;
    }
  }

  /**
   * A label from a detail the emitting code sets from a fixed set of its own (an endpoint name, a limit's
   * name): at most MAX_VALUES distinct values per label, the rest are `other`, whatever a later change emits.
   */
  private label(name: string, value: unknown): string {
    if (typeof value !== 'string' || value === '' || value.length > 64) return 'other';
    let values = this.seen.get(name);
    if (!values) this.seen.set(name, (values = new Set()));
    if (values.has(value)) return value;
    if (values.size >= MAX_VALUES) return 'other';
    values.add(value);
    return value;
  }

  /** A route pattern, or `(unmatched)` for a path no route has (the sender wrote it). */
  private route(value: unknown): string {
    return typeof value === 'string' && this.isRoute(value) ? this.label('route', value) : UNMATCHED_ROUTE;
  }
}

/** The event's reason code if it is one of the taxonomy's (AUDIT_REASONS) for its type, else `other`/`none`. */
function reasonOf(event: AuditEventInput): string {
  const reason = event.reason ?? event.details?.reason;
  if (typeof reason !== 'string' || reason === '') return 'none';
  return AUDIT_REASONS[event.type]?.includes(reason) ? reason : 'other';
}
