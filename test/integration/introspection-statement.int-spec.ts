import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { randomToken } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { AuditEmitter } from '../../src/events/events';
import { IntrospectionRepository } from '../../src/tokens/introspection.repository';
import { createClient, type TestClient } from '../factories/clients';
import { insertGrantRow, insertUserRow, TOKEN_TEST_ENV } from '../factories/tokens';
import { countingStatements, statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * IntrospectionRepository: an access token's state and the request's staged `token.introspected` in one statement,
 * shared by the introspections of one turn of the event loop — each call answered with its own token's state and
 * its own row written with that answer; when the database refuses the shared statement, each call runs alone.
 */
describe('the introspection statement on the real database', () => {
  let t: TestApp;
  let repo: IntrospectionRepository;
  let audit: AuditEmitter;
  let client: TestClient;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    repo = t.get(IntrospectionRepository);
    audit = t.get(AuditEmitter);
    client = await createClient(t);
    userId = await insertUserRow(t);
  });
  afterAll(() => t.close());

  const grant = (revoked = false) => insertGrantRow(t, { clientId: client.clientId, userId, revoked });

  /** One introspection call with its event staged (marked, to find its row). */
  const call = async (grantId: string, active: boolean) => {
    const marker = randomToken(8);
    const event = await audit.stage({
      type: 'token.introspected',
      outcome: 'success',
      clientId: client.clientId,
      details: { marker },
    });
    return { grantId, jti: randomUUID(), marker, row: event.row, active };
  };
  const detailsOf = async (marker: string) =>
    (
      await sql<{ details: Record<string, unknown> }>(
        t.dataSource,
        `SELECT details FROM audit_events WHERE type = 'token.introspected' AND details->>'marker' = $1`,
        [marker],
      )
    ).map((r) => r.details);
  const expectRow = async (c: Awaited<ReturnType<typeof call>>) =>
    expect(await detailsOf(c.marker)).toEqual([
      c.active
        ? { marker: c.marker, active: true, token_type: 'access_token' }
        : { marker: c.marker, active: false },
    ]);

  it('answers concurrent calls in one statement, each writing its own row with its own answer', async () => {
    const live = await grant();
    const revoked = await grant(true);
    const calls = await Promise.all([
      call(live, true),
      call(revoked, false),
      call(randomUUID(), false), // no such grant
      call(live, true),
      call(live, true),
    ]);
    const { result, statements } = await countingStatements(t, 'latchkey_introspect_access_', () =>
      Promise.all(calls.map((c) => repo.accessTokenActive(c.grantId, c.jti, c.row))),
    );
    expect(statements).toBe(1);
    expect(result).toEqual(calls.map((c) => ({ active: c.active, written: true })));
    for (const c of calls) await expectRow(c);
  });

  it('writes nothing and runs nothing for ids that are not UUIDs', async () => {
    const c = await call('not-a-uuid', false);
    expect(await repo.accessTokenActive(c.grantId, c.jti, c.row)).toEqual({ active: false, written: false });
    expect(await detailsOf(c.marker)).toEqual([]);
  });

  it('when the database refuses the shared statement, each call runs alone and writes its row once', async () => {
    const live = await grant();
    const calls = await Promise.all([call(live, true), call(live, true), call(await grant(true), false)]);
    const { pool, method } = statementRunner(t);
    const refused = Object.assign(new Error('check constraint violated'), { code: '23514' });
    const spy = jest.spyOn(pool, method).mockRejectedValueOnce(refused);
    let results;
    try {
      results = await Promise.all(calls.map((c) => repo.accessTokenActive(c.grantId, c.jti, c.row)));
    } finally {
      spy.mockRestore();
    }
    expect(results).toEqual(calls.map((c) => ({ active: c.active, written: true })));
    for (const c of calls) await expectRow(c);
  });

  it('fails every call of a statement when the database cannot be reached (nothing answered active)', async () => {
    const live = await grant();
    const calls = await Promise.all([call(live, true), call(live, true)]);
    const { pool, method } = statementRunner(t);
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const spy = jest.spyOn(pool, method).mockRejectedValueOnce(down);
    try {
      const results = await Promise.allSettled(
        calls.map((c) => repo.accessTokenActive(c.grantId, c.jti, c.row)),
      );
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      spy.mockRestore();
    }
    for (const c of calls) expect(await detailsOf(c.marker)).toEqual([]);
  });
});
