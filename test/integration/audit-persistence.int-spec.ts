import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AuditEventsRepository } from '../../src/audit/audit-events.repository';
import { AUDIT_BATCH_MAX, AuditWriter } from '../../src/audit/audit-writer';
import type { AuditRow } from '../../src/audit/audit-row';
import { AuditEmitter } from '../../src/events/events';
import { recordAs } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

const row = (overrides: Partial<AuditRow> = {}): AuditRow => ({
  occurredAt: new Date(),
  type: 'token.issued',
  outcome: 'success',
  errorCode: null,
  reason: null,
  clientId: 'persist-client',
  subject: null,
  ip: null,
  userAgent: null,
  durationMs: 3,
  requestId: randomUUID(),
  details: {},
  requestFirst: true,
  requestFirstFailure: false,
  ...overrides,
});

/** The listener and the group-commit writer on the real database. */
describe('audit persistence', () => {
  let t: TestApp;
  let writer: AuditWriter;
  let repository: AuditEventsRepository;

  beforeAll(async () => {
    // a long interval makes "waits for the interval" observable; full batches must not wait for it
    t = await createTestApp({ AUDIT_FLUSH_INTERVAL_MS: '25' });
    writer = t.get(AuditWriter);
    repository = t.get(AuditEventsRepository);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const countWhere = async (sql: string, params: unknown[]) =>
    Number(
      (await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE ${sql}`, params))[0].n,
    );

  it('commits each recorded event before record() resolves', async () => {
    const requestId = randomUUID();
    await recordAs(
      t,
      { ip: '192.0.2.10', requestId },
      { type: 'session.ended', outcome: 'success', subject: 'u1' },
    );
    expect(await countWhere('request_id = $1', [requestId])).toBe(1);
  });

  it('stores concurrent events with far fewer INSERT statements than events (group commit)', async () => {
    const inserts = jest.spyOn(repository, 'insertMany');
    const tag = randomUUID();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        recordAs(
          t,
          { ip: `192.0.2.${i + 1}` },
          {
            type: 'token.issued',
            outcome: 'success',
            clientId: tag,
            details: { grant_type: 'client_credentials', n: i },
          },
        ),
      ),
    );
    expect(await countWhere('client_id = $1', [tag])).toBe(60);
    expect(inserts.mock.calls.length).toBeLessThanOrEqual(3);
  });

  it('flushes a full buffer at once instead of waiting for the interval', async () => {
    const writes = Array.from({ length: AUDIT_BATCH_MAX }, () => writer.write(row()));
    expect(writer.pending).toBe(0);
    await Promise.all(writes);
    const one = writer.write(row());
    expect(writer.pending).toBe(1); // waits for the interval (or the next full batch)
    await one;
    expect(writer.pending).toBe(0);
  });

  it('rejects only the request whose row cannot be stored; the others of its batch commit', async () => {
    const good = row({ requestId: `good-${randomUUID()}` });
    const bad = row({ type: 'x'.repeat(80) }); // longer than varchar(64): the database refuses it
    const results = await Promise.allSettled([writer.write(good), writer.write(bad)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(await countWhere('request_id = $1', [good.requestId])).toBe(1);
  });

  it('rejects every waiter of a flush that fails because the database is unreachable', async () => {
    jest
      .spyOn(repository, 'insertMany')
      .mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const results = await Promise.allSettled([writer.write(row()), writer.write(row()), writer.write(row())]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('makes record() fail (the request fails) when its event cannot be stored', async () => {
    await expect(
      t.dataSource.transaction(async (manager) => {
        await manager.query('SELECT 1/0').catch(() => undefined); // the transaction is now aborted
        await t.get(AuditEmitter).record({ type: 'grant.revoked', outcome: 'success', manager });
      }),
    ).rejects.toThrow();
  });

  describe('events written in the emitter’s transaction (revocations)', () => {
    it('commits the event with the transaction', async () => {
      const grantId = randomUUID();
      await t.dataSource.transaction(async (manager) => {
        await t.get(AuditEmitter).record({
          type: 'grant.revoked',
          outcome: 'success',
          details: { grant_id: grantId, cause: 'refresh_reused' },
          manager,
        });
      });
      expect(await countWhere(`details->>'grant_id' = $1`, [grantId])).toBe(1);
    });

    it('rolls the event back with the transaction', async () => {
      const grantId = randomUUID();
      await expect(
        t.dataSource.transaction(async (manager) => {
          await t.get(AuditEmitter).record({
            type: 'grant.revoked',
            outcome: 'success',
            details: { grant_id: grantId, cause: 'code_replayed' },
            manager,
          });
          throw new Error('revocation failed');
        }),
      ).rejects.toThrow('revocation failed');
      expect(await countWhere(`details->>'grant_id' = $1`, [grantId])).toBe(0);
    });
  });

  it('writes every buffered event at shutdown', async () => {
    const r = row({ requestId: `shutdown-${randomUUID()}` });
    const pending = writer.write(r);
    expect(writer.pending).toBe(1);
    await writer.beforeApplicationShutdown();
    await pending;
    expect(await countWhere('request_id = $1', [r.requestId])).toBe(1);
  });
});
