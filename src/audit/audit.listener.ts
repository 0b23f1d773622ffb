import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { AUDIT_EVENT, AUDIT_STAGE_EVENT, type AuditEventPayload, type AuditStaging } from '../events/events';
import { AUDIT_COUNT_EVENT, type AuditCountUpdate } from '../events/refusal-auditor';
import { currentRequestContext } from '../http/request-context';
import { AuditRequestTracker } from './audit-request-tracker';
import { AuditEventsRepository } from './audit-events.repository';
import { toAuditRow } from './audit-row';
import { stagedAuditRow } from './audit-sql';
import { AuditWriter } from './audit-writer';

/**
 * Persists every audit event (AuditEmitter.record → emitAsync awaits this). With a transaction's
 * EntityManager the row is written in that transaction (it commits or rolls back with the revocation);
 * otherwise it joins the next group commit. An event staged for a hot-path statement (`stage`) is written by that
 * statement, in its transaction, and arrives here already stored. Errors are not suppressed: a request whose event cannot be
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
    if (payload.stored) return; // its statement wrote it (stage)
    const outcome = payload.outcome === 'success' ? 'success' : 'failure';
    const row = toAuditRow(
      payload,
      this.requests.flags(currentRequestContext(), payload.requestId, outcome === 'failure'),
    );
    if (payload.manager) await this.repository.insertMany([row], payload.manager);
    else await this.writer.write(row);
  }

  /** The row a hot-path statement writes with its change (AuditEmitter.stage; audit-sql.ts). */
  @OnEvent(AUDIT_STAGE_EVENT, { suppressErrors: false })
  stage(payload: AuditEventPayload): AuditStaging {
    const { flags, undo } = this.requests.stage(
      currentRequestContext(),
      payload.requestId,
      payload.outcome !== 'success',
    );
    return { row: stagedAuditRow(toAuditRow(payload, flags)), discard: undo };
  }

  /** The final counts of aggregated refusals (RefusalAuditor). */
  @OnEvent(AUDIT_COUNT_EVENT, { suppressErrors: false })
  async setCounts(updates: AuditCountUpdate[]): Promise<void> {
    await this.repository.setCounts(updates);
  }
}
