import { EventEmitter2 } from '@nestjs/event-emitter';
import {
  AUDIT_EVENT,
  AUDIT_STAGE_EVENT,
  AuditEmitter,
  type AuditEventPayload,
  type AuditStaging,
} from '../../../src/events/events';

/** AuditEmitter.stage / recordStaged: an event a hot-path statement writes itself (audit/audit-sql.ts). */
describe('AuditEmitter staging', () => {
  const heard = (events: EventEmitter2) => {
    const payloads: AuditEventPayload[] = [];
    events.on(AUDIT_EVENT, (p: AuditEventPayload) => payloads.push(p));
    return payloads;
  };

  it('takes the store’s row, and tells every listener the event is stored once its statement wrote it', async () => {
    const events = new EventEmitter2();
    const discarded: string[] = [];
    events.on(AUDIT_STAGE_EVENT, (p: AuditEventPayload): AuditStaging => ({
      row: JSON.stringify({ type: p.type }),
      discard: () => discarded.push(p.type),
    }));
    const payloads = heard(events);
    const audit = new AuditEmitter(events);

    const issued = await audit.stage({
      type: 'token.issued',
      outcome: 'success',
      clientId: 'c1',
      details: { a: 1 },
    });
    expect(issued.row).toBe('{"type":"token.issued"}');
    expect(payloads).toEqual([]); // nothing heard before the statement ran
    await audit.recordStaged(issued, { subject: 'u1', details: { a: 1, scope: 's' } });
    expect(payloads).toEqual([
      expect.objectContaining({
        type: 'token.issued',
        clientId: 'c1',
        subject: 'u1',
        details: { a: 1, scope: 's' },
        stored: true,
      }),
    ]);

    const refused = await audit.stage({ type: 'authorization_code.issued', outcome: 'success' });
    refused.discard();
    expect(discarded).toEqual(['authorization_code.issued']);
    expect(payloads).toHaveLength(1);
  });

  it('without an audit store, a staged event has no row and is recorded as any other', async () => {
    const events = new EventEmitter2();
    const payloads = heard(events);
    const audit = new AuditEmitter(events);
    const staged = await audit.stage({ type: 'authorization.requested', outcome: 'success' });
    expect(staged.row).toBeNull();
    staged.discard(); // harmless
    await audit.recordStaged(staged);
    expect(payloads).toEqual([expect.objectContaining({ type: 'authorization.requested', stored: false })]);
  });
});
