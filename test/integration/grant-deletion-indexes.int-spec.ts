import { sql } from '../../src/database/sql';
import { createClient, PUBLIC_CLIENT, type TestClient } from '../factories/clients';
import { exchangeCode, insertUserRow, issueCode, jwtClaims } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Migration 1765090000000 (GrantDeletionIndexes): deleting grants, clients and users without scanning whole
 * tables — no foreign key from authorization_codes.grant_id (every deleted grant scanned the codes), full
 * indexes on grants by client and by user (the cascades could not use the partial ones), an index on consents
 * by client. Runs on PGlite and on PostgreSQL 15 (test:pg).
 */
describe('migration GrantDeletionIndexes1765090000000', () => {
  let t: TestApp;
  let client: TestClient;
  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t, PUBLIC_CLIENT);
  });
  afterAll(() => t.close());

  const foreignKeysOfCodes = async () =>
    (
      await sql<{ conname: string }>(
        t.dataSource,
        `SELECT conname FROM pg_constraint WHERE conrelid = 'authorization_codes'::regclass AND contype = 'f'
          ORDER BY conname`,
      )
    ).map((r) => r.conname);
  const indexes = async () =>
    (
      await sql<{ indexname: string; indexdef: string }>(
        t.dataSource,
        `SELECT indexname, indexdef FROM pg_indexes
          WHERE tablename IN ('grants', 'consents') AND indexname NOT LIKE '%pkey' ORDER BY indexname`,
      )
    ).map((r) => `${r.indexname}${r.indexdef.includes(' WHERE ') ? ' (partial)' : ''}`);
  /** the plan the planner would choose if it had to avoid a sequential scan (tables here are tiny) */
  const planOf = (statement: string, params: unknown[]) =>
    t.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL enable_seqscan = off`);
      const rows: Array<Record<string, string>> = await m.query(`EXPLAIN ${statement}`, params);
      return rows.map((r) => Object.values(r)[0]).join('\n');
    });
  const exchanged = async (userId: string) => {
    const code = await issueCode(t, { client, userId });
    const res = await exchangeCode(t, client, code);
    expect(res.status).toBe(200);
    return { code, grantId: jwtClaims(res.body.access_token).gid as string };
  };

  it('leaves codes without a foreign key to their grant and indexes grants and consents for deletions', async () => {
    expect(await foreignKeysOfCodes()).toEqual([
      'authorization_codes_client_id_fkey',
      'authorization_codes_user_id_fkey',
    ]);
    expect(await indexes()).toEqual([
      'consents_client_idx',
      'grants_client_all_idx',
      'grants_expiry_idx',
      'grants_user_all_idx',
    ]);
    // the queries the cascades of DELETE FROM clients / users run
    expect(await planOf(`DELETE FROM grants WHERE client_id = $1`, ['c'])).toContain('grants_client_all_idx');
    expect(
      await planOf(`DELETE FROM grants WHERE user_id = $1`, ['00000000-0000-0000-0000-000000000000']),
    ).toContain('grants_user_all_idx');
    expect(await planOf(`DELETE FROM consents WHERE client_id = $1`, ['c'])).toContain('consents_client_idx');
  });

  it('a replayed code whose grant was purged revokes nothing and gets invalid_grant', async () => {
    const userId = await insertUserRow(t);
    const { code, grantId } = await exchanged(userId);
    const [row] = await sql<{ grant_id: string }>(
      t.dataSource,
      `SELECT grant_id FROM authorization_codes WHERE client_id = $1 AND user_id = $2`,
      [client.clientId, userId],
    );
    expect(row.grant_id).toBe(grantId);
    const other = await exchanged(userId);
    // the grant goes (as the grants purge deletes expired grants); the code keeps the id of a grant that is gone
    await sql(t.dataSource, `DELETE FROM grants WHERE id = $1`, [grantId]);

    const replay = await exchangeCode(t, client, code);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const [live] = await sql<{ revoked_at: Date | null }>(
      t.dataSource,
      `SELECT revoked_at FROM grants WHERE id = $1`,
      [other.grantId],
    );
    expect(live.revoked_at).toBeNull();
  });

  it('deleting a client removes its grants (revoked ones too), consents and codes', async () => {
    const doomed = await createClient(t, PUBLIC_CLIENT);
    const userId = await insertUserRow(t);
    const code = await issueCode(t, { client: doomed, userId });
    expect((await exchangeCode(t, doomed, code)).status).toBe(200);
    await issueCode(t, { client: doomed, userId }); // one unused code
    await sql(
      t.dataSource,
      `UPDATE grants SET revoked_at = now(), revoke_cause = 'test' WHERE client_id = $1`,
      [doomed.clientId],
    );
    await sql(t.dataSource, `INSERT INTO consents (user_id, client_id, scope) VALUES ($1, $2, 'api:read')`, [
      userId,
      doomed.clientId,
    ]);
    await sql(t.dataSource, `DELETE FROM clients WHERE client_id = $1`, [doomed.clientId]);
    const [left] = await sql<{ grants: number; consents: number; codes: number }>(
      t.dataSource,
      `SELECT (SELECT count(*) FROM grants WHERE client_id = $1)::int AS grants,
              (SELECT count(*) FROM consents WHERE client_id = $1)::int AS consents,
              (SELECT count(*) FROM authorization_codes WHERE client_id = $1)::int AS codes`,
      [doomed.clientId],
    );
    expect(left).toEqual({ grants: 0, consents: 0, codes: 0 });
  });

  it('down restores the foreign key (clearing references to grants that are gone) and the partial indexes', async () => {
    const userId = await insertUserRow(t);
    const gone = await exchanged(userId);
    const kept = await exchanged(userId);
    await sql(t.dataSource, `DELETE FROM grants WHERE id = $1`, [gone.grantId]);

    const applied = async () =>
      (await sql<{ name: string }>(t.dataSource, `SELECT name FROM migrations`)).map((r) => r.name);
    while ((await applied()).includes('GrantDeletionIndexes1765090000000'))
      await t.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await foreignKeysOfCodes()).toEqual([
      'authorization_codes_client_id_fkey',
      'authorization_codes_grant_id_fkey',
      'authorization_codes_user_id_fkey',
    ]);
    expect(await indexes()).toEqual([
      'grants_client_idx (partial)',
      'grants_expiry_idx',
      'grants_user_idx (partial)',
    ]);
    const grantIds = await sql<{ grant_id: string | null }>(
      t.dataSource,
      `SELECT grant_id FROM authorization_codes WHERE user_id = $1 ORDER BY created_at`,
      [userId],
    );
    expect(grantIds.map((r) => r.grant_id)).toEqual([null, kept.grantId]);

    const again = await t.dataSource.runMigrations({ transaction: 'each' });
    expect(again.map((m) => m.name)[0]).toBe('GrantDeletionIndexes1765090000000');
    expect(await foreignKeysOfCodes()).toHaveLength(2);
    expect(await indexes()).toEqual([
      'consents_client_idx',
      'grants_client_all_idx',
      'grants_expiry_idx',
      'grants_user_all_idx',
    ]);
  });
});
