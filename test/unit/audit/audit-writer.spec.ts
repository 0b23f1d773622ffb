import type { AuditEventsRepository } from '../../../src/audit/audit-events.repository';
import type { AuditRow } from '../../../src/audit/audit-row';
import { AUDIT_BATCH_MAX, AuditWriter } from '../../../src/audit/audit-writer';
import type { AuditConfig } from '../../../src/config/config.namespaces';

/** A repository stand-in that records batches; `gate` holds inserts until released. */
class FakeRepository {
  batches: AuditRow[][] = [];
  fail: ((rows: AuditRow[]) => Error | undefined) | undefined;
  gate: Promise<void> | undefined;
  async insertMany(rows: AuditRow[]) {
    if (this.gate) await this.gate;
    const err = this.fail?.(rows);
    if (err) throw err;
    this.batches.push(rows);
  }
}

const row = (type = 'token.issued'): AuditRow => ({
  occurredAt: new Date(),
  type,
  outcome: 'success',
  errorCode: null,
  reason: null,
  clientId: null,
  subject: null,
  ip: null,
  userAgent: null,
  durationMs: null,
  requestId: null,
  details: {},
  requestFirst: false,
  requestFirstFailure: false,
});

function writerWith(flushIntervalMs: number) {
  const repo = new FakeRepository();
  const config = { flushIntervalMs, retention: 0, reportThresholds: {} } as AuditConfig;
  return { repo, writer: new AuditWriter(repo as unknown as AuditEventsRepository, config) };
}

describe('AuditWriter (group commit)', () => {
  it('writes the events of one interval in one batch, and resolves each caller after it', async () => {
    const { repo, writer } = writerWith(5);
    let resolved = 0;
    const writes = Array.from({ length: 10 }, () => writer.write(row()).then(() => resolved++));
    expect(resolved).toBe(0);
    await Promise.all(writes);
    expect(repo.batches.map((b) => b.length)).toEqual([10]);
  });

  it('flushes on the next turn of the event loop with an interval of 0', async () => {
    const { repo, writer } = writerWith(0);
    await Promise.all([writer.write(row()), writer.write(row())]);
    expect(repo.batches.map((b) => b.length)).toEqual([2]);
  });

  it('splits more than AUDIT_BATCH_MAX waiting events into full batches', async () => {
    const { repo, writer } = writerWith(1000);
    await Promise.all(Array.from({ length: AUDIT_BATCH_MAX * 2 + 1 }, () => writer.write(row())));
    expect(repo.batches.map((b) => b.length).sort((a, b) => b - a)).toEqual([
      AUDIT_BATCH_MAX,
      AUDIT_BATCH_MAX,
      1,
    ]);
  });

  it('does not resolve a caller before its batch is stored', async () => {
    const { repo, writer } = writerWith(0);
    let release!: () => void;
    repo.gate = new Promise<void>((r) => (release = r));
    let done = false;
    const write = writer.write(row()).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release();
    await write;
    expect(done).toBe(true);
  });

  it('rejects every caller of a batch when the database is unreachable', async () => {
    const { repo, writer } = writerWith(0);
    repo.fail = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
    const results = await Promise.allSettled([writer.write(row()), writer.write(row())]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('retries a refused batch row by row so that only the bad row fails', async () => {
    const { repo, writer } = writerWith(0);
    repo.fail = (rows) => (rows.some((r) => r.type === 'bad') ? new Error('value too long') : undefined);
    const results = await Promise.allSettled([
      writer.write(row()),
      writer.write(row('bad')),
      writer.write(row()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(repo.batches.map((b) => b.length)).toEqual([1, 1]);
  });

  it('drains everything buffered at shutdown, without waiting for the interval', async () => {
    const { repo, writer } = writerWith(60_000);
    const writes = [writer.write(row()), writer.write(row())];
    expect(writer.pending).toBe(2);
    await writer.beforeApplicationShutdown();
    await Promise.all(writes);
    expect(repo.batches.flat()).toHaveLength(2);
    // after shutdown began, a late event is written at once
    await writer.write(row());
    expect(repo.batches.flat()).toHaveLength(3);
  });
});
