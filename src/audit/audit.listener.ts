import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { AUDIT_EVENT, type AuditEventPayload } from '../events/events';
import { AUDIT_COUNT_EVENT, type AuditCountUpdate } from '../events/refusal-auditor';
import { currentRequestContext } from '../http/request-context';
import { AuditRequestTracker } from './audit-request-tracker';
import { AuditEventsRepository } from './audit-events.repository';
import { toAuditRow } from './audit-row';
import { AuditWriter } from './audit-writer';

/**
 * Persists every audit event (AuditEmitter.record → emitAsync awaits this). With a transaction's
 * EntityManager the row is written in that transaction (it commits or rolls back with the revocation);
 * otherwise it joins the next group commit. Errors are not suppressed: a request whose event cannot be
 * stored fails instead of silently losing the event.
 */
@Injectable()
export class AuditListener {
  private readonly requests = new AuditRequestTracker();

  constructor(
    private readonly writer: AuditWriter,
    private readonly repository: AuditEventsRepository,
  ) {}

  @OnEvent(AUDIT_EVENT, { suppressErrors: false })
  async persist(payload: AuditEventPayload): Promise<void> {
    const outcome = payload.outcome === 'success' ? 'success' : 'failure';
    const row = toAuditRow(
      payload,
      this.requests.flags(currentRequestContext(), payload.requestId, outcome === 'failure'),
    );
    if (payload.manager) await this.repository.insertMany([row], payload.manager);
    else await this.writer.write(row);
  }

  /** The final counts of aggregated refusals (RefusalAuditor). */
  @OnEvent(AUDIT_COUNT_EVENT, { suppressErrors: false })
  async setCounts(updates: AuditCountUpdate[]): Promise<void> {
    await this.repository.setCounts(updates);
  }
}
