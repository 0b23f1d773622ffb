import { EventEmitter2 } from '@nestjs/event-emitter';
import { AUDIT_EVENT, type AuditEventPayload } from '../../src/events/events';
import type { TestApp } from '../helpers/test-app';

export interface AuditEventRecorder {
  /** every event recorded so far, in order (the same array for the recorder's whole life) */
  readonly events: AuditEventPayload[];
  ofType(type: string): AuditEventPayload[];
  /** forgets the events recorded so far (empties `events` in place) */
  clear(): void;
  /** stops recording */
  stop(): void;
}

/** Records the audit events the app emits from now on (what the audit module persists). */
export function recordAuditEvents(t: TestApp): AuditEventRecorder {
  const events: AuditEventPayload[] = [];
  const emitter = t.get(EventEmitter2);
  const listener = (event: AuditEventPayload) => {
    events.push(event);
  };
  emitter.on(AUDIT_EVENT, listener);
  return {
    events,
    ofType: (type) => events.filter((e) => e.type === type),
    clear: () => {
      events.length = 0;
    },
    stop: () => {
      emitter.off(AUDIT_EVENT, listener);
    },
  };
}

/** An `audit_events` row as the hot-path e2e tests read it: the request's facts and the report's request flags. */
export interface StoredAuditRow {
  type: string;
  subject: string | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  duration_ms: number | null;
  details: Record<string, unknown>;
  request_first: boolean;
  request_first_failure: boolean;
}
