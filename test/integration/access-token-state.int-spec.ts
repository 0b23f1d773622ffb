import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { sql } from '../../src/database/sql';
import { STATEMENT_BATCH_MAX } from '../../src/database/statement-batch';
import { GrantsRepository } from '../../src/grants/grants.repository';
import { createClient, type TestClient } from '../factories/clients';
import { insertGrantRow, insertUserRow, TOKEN_TEST_ENV } from '../factories/tokens';
import { statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * GrantsRepository.accessTokenActive: the revocation state of an access token (bearer guard, userinfo,
 * introspection). Checks made at the same time share one statement; each caller still gets its own token's
 * state, and the database is read after the call (nothing cached).
 */
describe('access-token state checks on the real database', () => {
  let t: TestApp;
  let grants: GrantsRepository;
  let client: TestClient;
  let disabledClient: TestClient;
  let userId: string;
  let disabledUserId: string;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    grants = t.get(GrantsRepository);
    client = await createClient(t);
    disabledClient = await createClient(t);
    userId = await insertUserRow(t);
    disabledUserId = await insertUserRow(t);
    await sql(t.dataSource, `UPDATE clients SET enabled = false WHERE client_id = $1`, [
      disabledClient.clientId,
    ]);
    await sql(t.dataSource, `UPDATE users SET enabled = false WHERE id = $1`, [disabledUserId]);
  });
  afterAll(() => t.close());

  const grant = (clientId: string, user: string | null, revoked = false) =>
    insertGrantRow(t, { clientId, userId: user, revoked });

  /** Counts the statements that read token states. */
  const countStateStatements = () => {
    const { pool, method } = statementRunner(t);
    const spy = jest.spyOn(pool, method);
    return {
      calls: () =>
        spy.mock.calls.filter((args) => JSON.stringify(args[0]).includes('latchkey_access_tokens_active'))
          .length,
      restore: () => spy.mockRestore(),
    };
  };

  it('answers each of many concurrent checks with its own token’s state, in one statement', async () => {
    const live = await grant(client.clientId, userId);
    const revokedGrant = await grant(client.clientId, userId, true);
    const ofDisabledClient = await grant(disabledClient.clientId, userId);
    const ofDisabledUser = await grant(client.clientId, disabledUserId);
    const clientGrant = await grant(client.clientId, null);
    const revokedJti = randomUUID();
    await sql(
      t.dataSource,
      `INSERT INTO revoked_access_tokens (jti, grant_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')`,
      [revokedJti, live],
    );
    const cases: Array<[string, string, boolean]> = [
      [live, randomUUID(), true],
      [revokedGrant, randomUUID(), false],
      [live, revokedJti, false], // this token revoked, its grant live
      [ofDisabledClient, randomUUID(), false],
      [ofDisabledUser, randomUUID(), false],
      [clientGrant, randomUUID(), true], // client_credentials: no user
      [randomUUID(), randomUUID(), false], // no such grant
      [live, randomUUID(), true], // the same grant twice in one batch
    ];
    const statements = countStateStatements();
    try {
      const answers = await Promise.all(cases.map(([gid, jti]) => grants.accessTokenActive(gid, jti)));
      expect(answers).toEqual(cases.map(([, , active]) => active));
      expect(statements.calls()).toBe(1);
    } finally {
      statements.restore();
    }
  });

  it('never lets one caller’s malformed ids fail the statement it would share: they are inactive, the rest answered', async () => {
    const live = await grant(client.clientId, userId);
    const statements = countStateStatements();
    try {
      const answers = await Promise.all([
        grants.accessTokenActive(live, randomUUID()),
        grants.accessTokenActive("x'; DROP TABLE grants; --", randomUUID()),
        grants.accessTokenActive(live, 'not-a-uuid'),
        grants.accessTokenActive(live, randomUUID()),
      ]);
      expect(answers).toEqual([true, false, false, true]);
      expect(statements.calls()).toBe(1);
    } finally {
      statements.restore();
    }
  });

  it('reads the database at the time of the check: a revocation committed before it is seen (no cache)', async () => {
    const id = await grant(client.clientId, userId);
    const jti = randomUUID();
    expect(await grants.accessTokenActive(id, jti)).toBe(true);
    await sql(t.dataSource, `UPDATE grants SET revoked_at = now() WHERE id = $1`, [id]);
    expect(await grants.accessTokenActive(id, jti)).toBe(false);
    await sql(t.dataSource, `UPDATE grants SET revoked_at = NULL WHERE id = $1`, [id]);
    await sql(t.dataSource, `UPDATE clients SET enabled = false WHERE client_id = $1`, [client.clientId]);
    try {
      expect(await grants.accessTokenActive(id, jti)).toBe(false);
    } finally {
      await sql(t.dataSource, `UPDATE clients SET enabled = true WHERE client_id = $1`, [client.clientId]);
    }
    expect(await grants.accessTokenActive(id, jti)).toBe(true);
  });

  it(`splits more than ${STATEMENT_BATCH_MAX} concurrent checks into statements of at most that many`, async () => {
    const live = await grant(client.clientId, userId);
    const revoked = await grant(client.clientId, userId, true);
    const n = STATEMENT_BATCH_MAX * 2 + 5;
    const statements = countStateStatements();
    try {
      const answers = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          grants.accessTokenActive(i % 3 === 0 ? revoked : live, randomUUID()),
        ),
      );
      expect(answers).toEqual(Array.from({ length: n }, (_, i) => i % 3 !== 0));
      expect(statements.calls()).toBe(3);
    } finally {
      statements.restore();
    }
  });

  it('fails every check of a statement that fails (the requests fail; none is answered active)', async () => {
    const live = await grant(client.clientId, userId);
    const { pool, method } = statementRunner(t);
    const spy = jest
      .spyOn(pool, method)
      .mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    try {
      const results = await Promise.allSettled([
        grants.accessTokenActive(live, randomUUID()),
        grants.accessTokenActive(live, randomUUID()),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      spy.mockRestore();
    }
    expect(await grants.accessTokenActive(live, randomUUID())).toBe(true);
  });
});
