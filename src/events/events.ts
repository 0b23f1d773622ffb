import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import { currentRequestContext, elapsedMs } from '../http/request-context';

/**
 * The one audit vocabulary (docs/audit.md). Type names are `<thing>.<past-tense verb>`;
 * the TypeScript union is derived from this list.
 */
export const AUDIT_EVENT_TYPES = [
  'authorization.requested',
  'authorization.rejected',
  'authorization_code.issued',
  'consent.granted',
  'consent.denied',
  'login.succeeded',
  'login.failed',
  'session.ended',
  'client.authentication_failed',
  'token.issued',
  'token.request_failed',
  'grant.revoked',
  'token.revoked',
  'token.revocation_failed',
  'token.introspected',
  'client.created',
  'client.updated',
  'client.deleted',
  'client.secret_rotated',
  'api.access_denied',
  'signing_key.rotated',
  'request.rate_limited',
  'audit.queried',
  'audit.report_generated',
  'id_token.issued',
  'userinfo.served',
  'userinfo.refused',
  'logout.completed',
  'logout.refused',
  'user.created',
  'user.updated',
  'user.deleted',
  'user.grants_revoked',
  'audit_console.signed_in',
  'audit_console.access_denied',
  'user.permission_granted',
  'user.permission_revoked',
  'par.pushed',
  'par.request_failed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** What a module says happened. Never put a code, verifier, token, secret or password in here. */
export interface AuditEventInput {
  type: AuditEventType;
  outcome: 'success' | 'failure';
  /** The OAuth error code sent, if any. */
  errorCode?: string | null;
  /** The reason code (docs/audit.md), stored in details.reason too. */
  reason?: string | null;
  clientId?: string | null;
  subject?: string | null;
  details?: Record<string, unknown>;
  /** Write the event in this transaction (revocations: the row commits with the state change). */
  manager?: EntityManager;
}

/** The event as the audit module receives it: input plus the request facts. */
export interface AuditEventPayload extends AuditEventInput {
  occurredAt: Date;
  ip: string | null;
  userAgent: string | null;
  durationMs: number | null;
  requestId: string | null;
  /** Already stored by the statement that made the change (AuditEmitter.stage): listeners other than the store act. */
  stored?: boolean;
}

/** The one event name the audit listener subscribes to; `type` says what happened. */
export const AUDIT_EVENT = 'audit.event';

/**
 * Asked of the audit store before a hot-path statement (AuditEmitter.stage): the event's row for that statement to
 * write in its own transaction (audit/audit-sql.ts), so that the change and its event commit together.
 */
export const AUDIT_STAGE_EVENT = 'audit.stage';

/** The audit store's answer to AUDIT_STAGE_EVENT. */
export interface AuditStaging {
  /** the row as one jsonb parameter of audit/audit-sql.ts's insert */
  row: string;
  /** the statement did not write the row (the change did not happen): the store forgets it */
  discard: () => void;
}

/**
 * An event prepared for the statement that stores it. `row` is null when no audit store listens (the event is then
 * recorded as any other once the statement ran: AuditEmitter.recordStaged).
 */
export interface StagedAuditEvent {
  readonly payload: AuditEventPayload;
  readonly row: string | null;
  readonly discard: () => void;
}

/**
 * Modules record audit events through this emitter (EventEmitter2 underneath, as docs/architecture.md says:
 * cross-module side effects go through events). `record` awaits the listener, so the event is committed
 * before the response it belongs to is sent.
 */
@Injectable()
export class AuditEmitter {
  constructor(private readonly events: EventEmitter2) {}

  async record(event: AuditEventInput): Promise<void> {
    await this.events.emitAsync(AUDIT_EVENT, this.payloadOf(event));
  }

  /**
   * An event the state statement writes itself, in its transaction (one commit per request instead of two: the
   * hot paths, docs/performance.md). Staged before the statement; the time and request facts are taken now.
   * Afterwards the caller either calls `recordStaged` (the statement wrote it: the other listeners hear it) or,
   * when the change did not happen, `discard` — before the request records any other event (the request-counting
   * flags of those are taken with the staged row counted until it is discarded).
   */
  async stage(event: Omit<AuditEventInput, 'manager'>): Promise<StagedAuditEvent> {
    const payload = this.payloadOf(event);
    const answers: unknown[] = await this.events.emitAsync(AUDIT_STAGE_EVENT, payload);
    const staging = answers.find(
      (a): a is AuditStaging => typeof (a as AuditStaging | undefined)?.row === 'string',
    );
    return { payload, row: staging?.row ?? null, discard: staging?.discard ?? (() => undefined) };
  }

  /**
   * A staged event whose change happened: its statement wrote the row, and now the other listeners hear it
   * (`filled`: what only the statement knew — the subject, details). An event no store staged is stored now.
   */
  async recordStaged(
    staged: StagedAuditEvent,
    filled: Pick<AuditEventInput, 'subject' | 'details'> = {},
  ): Promise<void> {
    const payload: AuditEventPayload = { ...staged.payload, ...filled, stored: staged.row !== null };
    if (filled.subject !== undefined) payload.subject = filled.subject ? truncate(filled.subject, 128) : null;
    await this.events.emitAsync(AUDIT_EVENT, payload);
  }

  private payloadOf(event: AuditEventInput): AuditEventPayload {
    const ctx = currentRequestContext();
    return {
      ...event,
      clientId: event.clientId ? truncate(event.clientId, 128) : null,
      subject: event.subject ? truncate(event.subject, 128) : null,
      occurredAt: new Date(),
      ip: ctx?.ip ?? null,
      userAgent: ctx?.userAgent ? truncate(ctx.userAgent, 512) : null,
      durationMs: elapsedMs(ctx),
      requestId: ctx?.requestId ?? null,
    };
  }
}

export function truncate(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}
