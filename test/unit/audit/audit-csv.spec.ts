import { Writable } from 'node:stream';
import { streamCsv } from '../../../src/audit/audit-csv';
import type { AuditEventView } from '../../../src/audit/audit-events.repository';

const event = (i: number): AuditEventView => ({
  id: String(i),
  occurred_at: new Date(1_700_000_000_000 + i).toISOString(),
  type: 'login.failed',
  outcome: 'failure',
  error_code: null,
  client_id: 'web',
  subject: `subject-${i}`,
  ip: '10.0.0.1',
  user_agent: 'curl/8',
  duration_ms: 1,
  request_id: null,
  details: { reason: 'invalid_credentials' },
});

async function* pages(count: number, size: number): AsyncGenerator<AuditEventView[]> {
  for (let start = 0; start < count; start += size)
    yield Array.from({ length: Math.min(size, count - start) }, (_, k) => event(start + k));
}

/** Issue 20, finding 6: an export to a slow client keeps its listeners constant, whatever its length. */
describe('streamCsv', () => {
  it('leaves no listener behind on the response per back-pressure wait', async () => {
    let most = 0;
    let lines = 0;
    const out: Writable = new Writable({
      highWaterMark: 256, // a slow client: nearly every record waits for 'drain'
      write(chunk: Buffer, _encoding, callback) {
        lines += chunk.toString().split('\r\n').length - 1;
        most = Math.max(most, out.listenerCount('close') + out.listenerCount('error'));
        setImmediate(callback);
      },
    });
    const baseline = out.listenerCount('close') + out.listenerCount('error');
    await streamCsv(out, pages(3000, 500));
    expect(lines).toBe(3001); // header + every event
    // the pipe's own listeners and at most one wait's; not one per wait (thousands before the fix)
    expect(most - baseline).toBeLessThanOrEqual(6);
  });
});
