import { AuditRequestTracker } from '../../../src/audit/audit-request-tracker';
import type { RequestContext } from '../../../src/http/request-context';

const ctx = (requestId: string): RequestContext => ({
  requestId,
  ip: '192.0.2.1',
  userAgent: null,
  startedAt: 0n,
  path: '/oauth/token',
});

describe('AuditRequestTracker (request flags for the report counts)', () => {
  it('marks the first event of a request, and only the first', () => {
    const tracker = new AuditRequestTracker();
    const c = ctx('r1');
    expect(tracker.flags(c, 'r1', false)).toEqual({ requestFirst: true, requestFirstFailure: false });
    expect(tracker.flags(c, 'r1', false)).toEqual({ requestFirst: false, requestFirstFailure: false });
  });

  it('marks the first failure of a request once, even after successes', () => {
    const tracker = new AuditRequestTracker();
    const c = ctx('r2');
    tracker.flags(c, 'r2', false);
    expect(tracker.flags(c, 'r2', true)).toEqual({ requestFirst: false, requestFirstFailure: true });
    expect(tracker.flags(c, 'r2', true)).toEqual({ requestFirst: false, requestFirstFailure: false });
  });

  it('a failure that opens its request is both first and first failure (token.request_failed, then grant.revoked)', () => {
    const tracker = new AuditRequestTracker();
    const c = ctx('r3');
    expect(tracker.flags(c, 'r3', true)).toEqual({ requestFirst: true, requestFirstFailure: true });
    expect(tracker.flags(c, 'r3', false)).toEqual({ requestFirst: false, requestFirstFailure: false });
  });

  it('tells two requests apart, whatever their ids', () => {
    const tracker = new AuditRequestTracker();
    expect(tracker.flags(ctx('same'), 'same', false).requestFirst).toBe(true);
    expect(tracker.flags(ctx('same'), 'same', false).requestFirst).toBe(true);
  });

  it('counts nothing without a request id (CLI, schedules)', () => {
    const tracker = new AuditRequestTracker();
    expect(tracker.flags(undefined, null, true)).toEqual({ requestFirst: false, requestFirstFailure: false });
  });

  it('treats an event whose request context is unknown as its own request', () => {
    const tracker = new AuditRequestTracker();
    expect(tracker.flags(undefined, 'r4', true)).toEqual({ requestFirst: true, requestFirstFailure: true });
    expect(tracker.flags(ctx('other'), 'r4', false)).toEqual({
      requestFirst: true,
      requestFirstFailure: false,
    });
  });

  it('a staged event takes its flags at once, and an undone one leaves the request as it was', () => {
    const tracker = new AuditRequestTracker();
    const c = ctx('r5');
    // token.issued staged for the exchange statement, which then refuses the code: token.request_failed opens the request
    const staged = tracker.stage(c, 'r5', false);
    expect(staged.flags).toEqual({ requestFirst: true, requestFirstFailure: false });
    staged.undo();
    expect(tracker.flags(c, 'r5', true)).toEqual({ requestFirst: true, requestFirstFailure: true });
    // undone after earlier events: back to their state, not to an empty one
    const later = tracker.stage(c, 'r5', true);
    expect(later.flags).toEqual({ requestFirst: false, requestFirstFailure: false });
    later.undo();
    expect(tracker.flags(c, 'r5', false)).toEqual({ requestFirst: false, requestFirstFailure: false });
  });

  it('a staged event that was kept counts as the request’s first', () => {
    const tracker = new AuditRequestTracker();
    const c = ctx('r6');
    expect(tracker.stage(c, 'r6', false).flags.requestFirst).toBe(true);
    expect(tracker.flags(c, 'r6', true)).toEqual({ requestFirst: false, requestFirstFailure: true });
  });

  it('undoes a staged event once: a second undo after later events changes nothing', () => {
    const tracker = new AuditRequestTracker();
    const c = ctx('r7');
    const staged = tracker.stage(c, 'r7', false);
    staged.undo();
    expect(tracker.flags(c, 'r7', true)).toEqual({ requestFirst: true, requestFirstFailure: true });
    staged.undo();
    expect(tracker.flags(c, 'r7', true)).toEqual({ requestFirst: false, requestFirstFailure: false });
  });
});
