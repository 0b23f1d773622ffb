import { EventEmitter2 } from '@nestjs/event-emitter';
import { AUDIT_EVENT } from '../../../src/events/events';
import {
  AuditSinkExtension,
  ReportRuleExtension,
  TokenClaimsExtension,
  type AuditSinkEvent,
  type TokenClaimsInput,
} from '../../../src/extensions/extension-points';
import { LatchkeyExtensions } from '../../../src/extensions/latchkey-extensions';

@TokenClaimsExtension()
class Greedy {
  claims() {
    return { iss: 'https://evil.example', sub: 'someone-else', scope: 'admin', gid: 'x', team: 'blue' };
  }
}
@TokenClaimsExtension()
class Later {
  claims() {
    return { team: 'red', skipped: undefined };
  }
}
@ReportRuleExtension()
class Rule {
  name = 'r';
}
@AuditSinkExtension()
class Sink {
  received: AuditSinkEvent[] = [];
  receive(e: AuditSinkEvent) {
    this.received.push(e);
  }
}
class NotAnExtension {}

function registry(instances: object[], events = new EventEmitter2()) {
  const discovery = { getProviders: () => instances.map((instance) => ({ instance })) };
  return new LatchkeyExtensions(discovery as never, events, { get: () => undefined } as never);
}

const input: TokenClaimsInput = {
  token: 'access_token',
  grantType: 'client_credentials',
  subject: 'c1',
  userId: null,
  clientId: 'c1',
  scopes: ['api:read'],
  grantId: 'g1',
};

describe('LatchkeyExtensions', () => {
  it('finds the marked providers once each, whatever else the app has', () => {
    const sink = new Sink();
    const x = registry([new Greedy(), new NotAnExtension(), new Rule(), sink, sink]);
    expect(x.hasClaimsProviders).toBe(true);
    expect(x.reportRules.map((r) => r.name)).toEqual(['r']);
    expect(registry([new NotAnExtension()]).hasClaimsProviders).toBe(false);
  });

  it('drops the registered claims a provider returns; a later provider wins for its own names', async () => {
    expect(await registry([new Greedy(), new Later()]).claims(input)).toEqual({ team: 'red' });
  });

  it('hands audit sinks every event, sanitised, off the emitting call', async () => {
    const events = new EventEmitter2();
    const sink = new Sink();
    registry([sink], events).onModuleInit();
    await events.emitAsync(AUDIT_EVENT, {
      type: 'token.issued',
      outcome: 'success',
      clientId: 'c1',
      details: { grant_type: 'client_credentials', client_secret: 'never' },
      occurredAt: new Date(),
      ip: '203.0.113.7',
      userAgent: 'ua',
      durationMs: 3,
      requestId: 'r1',
    });
    expect(sink.received).toEqual([]); // not yet: off the request's path
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]).toMatchObject({ type: 'token.issued', client_id: 'c1', ip: '203.0.113.7' });
    expect(JSON.stringify(sink.received[0])).not.toContain('never');
  });
});
