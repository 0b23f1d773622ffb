import { sha256Hex } from '../../src/common/crypto';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { sql } from '../../src/database/sql';
import { createTestApp, TestApp } from '../helpers/test-app';
import { insertUserRow, issueCode, obtainTokens, TOKEN_TEST_ENV } from '../factories/tokens';
import { createClient } from '../factories/clients';

/** Issue 8 §7: what has expired is purged (in batches), what is live is kept. */
describe('housekeeping', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
  });
  afterAll(() => t.close());

  it('purges expired codes, sessions, refresh tokens, grants and revoked jtis, and keeps live ones', async () => {
    const client = await createClient(t);
    const userId = await insertUserRow(t);
    const live = await issueCode(t, { client, userId });
    const old = await issueCode(t, { client, userId });
    await sql(
      t.dataSource,
      `UPDATE authorization_codes SET expires_at = now() - interval '2 hours' WHERE code_hash <> $1`,
      [sha256Hex(live.code)],
    );
    const tokens = await obtainTokens(t, client, userId);
    const [grant] = await sql<{ id: string }>(
      t.dataSource,
      `SELECT grant_id AS id FROM refresh_tokens LIMIT 1`,
    );
    await sql(t.dataSource, `UPDATE grants SET expires_at = now() - interval '2 days' WHERE id = $1`, [
      grant.id,
    ]);
    await sql(
      t.dataSource,
      `UPDATE refresh_tokens SET expires_at = now() - interval '2 days' WHERE grant_id = $1`,
      [grant.id],
    );
    await sql(
      t.dataSource,
      `INSERT INTO sessions (id_hash, user_id, idle_expires_at, absolute_expires_at)
       VALUES (repeat('a', 64), $1, now() - interval '1 minute', now() + interval '1 hour'),
              (repeat('b', 64), $1, now() + interval '1 hour', now() + interval '2 hours')`,
      [userId],
    );
    await sql(
      t.dataSource,
      `INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (gen_random_uuid(), now() - interval '1 minute')`,
    );

    const counts = await t.get(HousekeepingService).purgeExpired();
    expect(counts.authorization_codes).toBeGreaterThanOrEqual(1);
    expect(counts.sessions).toBe(1);
    expect(counts.grants).toBe(1);
    expect(counts.revoked_access_tokens).toBe(1);
    expect(old.code).not.toBe(live.code);
    const hashes = (
      await sql<{ code_hash: string }>(t.dataSource, `SELECT code_hash FROM authorization_codes`)
    ).map((r) => r.code_hash);
    expect(hashes).toContain(sha256Hex(live.code));
    expect(hashes).not.toContain(sha256Hex(old.code));
    const sessions = await sql<{ id_hash: string }>(t.dataSource, `SELECT id_hash FROM sessions`);
    expect(sessions.map((s) => s.id_hash.trim())).toEqual(['b'.repeat(64)]);
    expect(await sql(t.dataSource, `SELECT 1 FROM refresh_tokens WHERE grant_id = $1`, [grant.id])).toEqual(
      [],
    );
    expect(tokens.access_token).toBeTruthy();
  });

  it('purges expired DPoP proof records and pushed requests, and keeps live ones', async () => {
    const client = await createClient(t);
    await sql(
      t.dataSource,
      `INSERT INTO dpop_proofs (proof_hash, expires_at)
       VALUES (repeat('c', 64), now() - interval '1 second'), (repeat('d', 64), now() + interval '1 minute')`,
    );
    await sql(
      t.dataSource,
      `INSERT INTO pushed_authorization_requests (id_hash, client_id, params, expires_at)
       VALUES (repeat('e', 64), $1, '{}', now() - interval '1 second'), (repeat('f', 64), $1, '{}', now() + interval '1 minute')`,
      [client.clientId],
    );
    const counts = await t.get(HousekeepingService).purgeExpired();
    expect(counts.dpop_proofs).toBe(1);
    expect(counts.pushed_authorization_requests).toBe(1);
    const proofs = await sql<{ h: string }>(t.dataSource, `SELECT proof_hash AS h FROM dpop_proofs`);
    expect(proofs.map((r) => r.h.trim())).toEqual(['d'.repeat(64)]);
    const pushed = await sql<{ h: string }>(
      t.dataSource,
      `SELECT id_hash AS h FROM pushed_authorization_requests`,
    );
    expect(pushed.map((r) => r.h.trim())).toEqual(['f'.repeat(64)]);
  });
});
