import { randomUUID } from 'node:crypto';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { LockoutsRepository } from '../../src/rate-limit/lockouts.repository';
import { GrantsRepository } from '../../src/grants/grants.repository';
import { TokensRepository } from '../../src/tokens/tokens.repository';
import { insertUserRow, issueCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { type TestClient, createClient } from '../factories/clients';

describe('TokensRepository and LockoutsRepository (client lockouts) on the real database', () => {
  let t: TestApp;
  let repo: TokensRepository;
  let grants: GrantsRepository;
  let client: TestClient;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    repo = t.get(TokensRepository);
    grants = t.get(GrantsRepository);
    client = await createClient(t);
    userId = await insertUserRow(t);
  });
  afterAll(() => t.close());

  /** The code's own challenge unless told otherwise (= the verifier sent matched). */
  const challengeOf = async (codeHash: string) =>
    (
      await sql<{ code_challenge: string }>(
        t.dataSource,
        `SELECT code_challenge FROM authorization_codes WHERE code_hash = $1`,
        [codeHash],
      )
    )[0]?.code_challenge ?? 'none';
  const exchange = async (
    codeHash: string,
    refreshHash: string | null = sha256Hex(randomToken()),
    redirectUri = client.redirectUri,
    codeChallenge?: string,
  ) =>
    repo.exchangeCode({
      codeHash,
      grantId: randomUUID(),
      clientId: client.clientId,
      redirectUri,
      codeChallenge: codeChallenge ?? (await challengeOf(codeHash)),
      grantTtlSeconds: 3600,
      refreshHash,
    });

  it('exchanges a code in one statement: consumed, grant created and linked, refresh token inserted', async () => {
    const { code } = await issueCode(t, { client, userId, scope: 'api:read', nonce: 'n-1' });
    const refreshHash = sha256Hex(randomToken());
    const row = await exchange(sha256Hex(code), refreshHash);
    expect(row).toEqual({
      grant_id: expect.any(String),
      user_id: userId,
      scope: 'api:read',
      // what the id_token needs, carried from the code into the grant
      nonce: 'n-1',
      auth_time: expect.anything(),
      sid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      // no openid in the scope: the statement reads no profile
      username: null,
      name: null,
      email: null,
      email_verified: null,
      updated_at: null,
    });
    const [codeRow] = await sql<{ consumed_at: Date | null; grant_id: string }>(
      t.dataSource,
      `SELECT consumed_at, grant_id FROM authorization_codes WHERE code_hash = $1`,
      [sha256Hex(code)],
    );
    expect(codeRow.consumed_at).not.toBeNull();
    expect(codeRow.grant_id).toBe(row!.grant_id);
    const tokens = await sql(t.dataSource, `SELECT grant_id FROM refresh_tokens WHERE token_hash = $1`, [
      refreshHash,
    ]);
    expect(tokens).toEqual([{ grant_id: row!.grant_id }]);
  });

  it("returns the user's profile with an openid grant (what the id_token's claims are made of)", async () => {
    const oidcClient = await createClient(t, { scope: 'openid profile api:read' });
    const username = `ada-${randomToken(4)}`;
    const user = await insertUserRow(t, username);
    await sql(t.dataSource, `UPDATE users SET name = 'Ada', email = 'ada@example.com' WHERE id = $1`, [user]);
    const { code } = await issueCode(t, { client: oidcClient, userId: user, scope: 'openid profile' });
    const row = await repo.exchangeCode({
      codeHash: sha256Hex(code),
      grantId: randomUUID(),
      clientId: oidcClient.clientId,
      redirectUri: oidcClient.redirectUri,
      codeChallenge: await challengeOf(sha256Hex(code)),
      grantTtlSeconds: 3600,
      refreshHash: sha256Hex(randomToken()),
    });
    expect(row).toMatchObject({
      user_id: user,
      scope: 'openid profile',
      username,
      name: 'Ada',
      email: 'ada@example.com',
      email_verified: false,
      updated_at: expect.any(Date),
    });
  });

  it('exchanges nothing for another verifier: no grant is ever created, the code stays unused', async () => {
    const { code } = await issueCode(t, { client, userId });
    const grantsBefore = await sql(t.dataSource, `SELECT id FROM grants`);
    expect(await exchange(sha256Hex(code), null, client.redirectUri, 'A'.repeat(43))).toBeUndefined();
    expect(await sql(t.dataSource, `SELECT id FROM grants`)).toEqual(grantsBefore);
    const [codeRow] = await sql<{ consumed: boolean }>(
      t.dataSource,
      `SELECT consumed_at IS NOT NULL AS consumed FROM authorization_codes WHERE code_hash = $1`,
      [sha256Hex(code)],
    );
    expect(codeRow.consumed).toBe(false);
  });

  it('exchanges a code only while its client is enabled, for the scope the client still holds', async () => {
    const narrowed = await createClient(t, { scope: 'api:read api:write' });
    const both = await issueCode(t, { client: narrowed, userId, scope: 'api:read api:write' });
    const writeOnly = await issueCode(t, { client: narrowed, userId, scope: 'api:write' });
    // changed behind the registry's back (as a concurrent PATCH on another instance would be)
    await sql(t.dataSource, `UPDATE clients SET scope = 'api:read' WHERE client_id = $1`, [
      narrowed.clientId,
    ]);
    const as = (codeHash: string) =>
      challengeOf(codeHash).then((codeChallenge) =>
        repo.exchangeCode({
          codeHash,
          grantId: randomUUID(),
          clientId: narrowed.clientId,
          redirectUri: narrowed.redirectUri,
          codeChallenge,
          grantTtlSeconds: 3600,
          refreshHash: sha256Hex(randomToken()),
        }),
      );
    expect((await as(sha256Hex(both.code)))?.scope).toBe('api:read');
    expect(await as(sha256Hex(writeOnly.code))).toBeUndefined();
    const disabledCode = await issueCode(t, { client: narrowed, userId, scope: 'api:read' });
    await sql(t.dataSource, `UPDATE clients SET enabled = false WHERE client_id = $1`, [narrowed.clientId]);
    expect(await as(sha256Hex(disabledCode.code))).toBeUndefined();
  });

  it('creates no refresh token when none is asked for', async () => {
    const { code } = await issueCode(t, { client, userId });
    const row = await exchange(sha256Hex(code), null);
    const tokens = await sql(t.dataSource, `SELECT 1 FROM refresh_tokens WHERE grant_id = $1`, [
      row!.grant_id,
    ]);
    expect(tokens).toEqual([]);
  });

  it('lets exactly one of 10 concurrent exchanges of a code win, and creates exactly one grant', async () => {
    const { code } = await issueCode(t, { client, userId });
    const results = await Promise.all(Array.from({ length: 10 }, () => exchange(sha256Hex(code))));
    expect(results.filter(Boolean)).toHaveLength(1);
    const grants = await sql<{ n: number }>(
      t.dataSource,
      `SELECT count(*)::int AS n FROM grants WHERE client_id = $1 AND id IN
         (SELECT grant_id FROM authorization_codes WHERE code_hash = $2)`,
      [client.clientId, sha256Hex(code)],
    );
    expect(grants[0].n).toBe(1);
  });

  it('does not exchange an expired code, another client’s code or a code for another redirect URI', async () => {
    const elsewhere = await issueCode(t, { client, userId });
    expect(await exchange(sha256Hex(elsewhere.code), null, `${client.redirectUri}/other`)).toBeUndefined();
    const [unused] = await sql<{ consumed_at: Date | null }>(
      t.dataSource,
      `SELECT consumed_at FROM authorization_codes WHERE code_hash = $1`,
      [sha256Hex(elsewhere.code)],
    );
    expect(unused.consumed_at).toBeNull();
    const { code } = await issueCode(t, { client, userId });
    await sql(t.dataSource, `UPDATE authorization_codes SET expires_at = now() WHERE code_hash = $1`, [
      sha256Hex(code),
    ]);
    expect(await exchange(sha256Hex(code))).toBeUndefined();
    const other = await createClient(t);
    const foreign = await issueCode(t, { client: other, userId });
    expect(await exchange(sha256Hex(foreign.code))).toBeUndefined();
  });

  it('rotates a refresh token once among concurrent rotations, and revokes a grant once', async () => {
    const { code } = await issueCode(t, { client, userId });
    const token = randomToken();
    const { grant_id } = (await exchange(sha256Hex(code), sha256Hex(token)))!;
    const rotations = await Promise.all(
      Array.from({ length: 10 }, () =>
        repo.rotateRefresh({
          tokenHash: sha256Hex(token),
          clientId: client.clientId,
          successorHash: sha256Hex(randomToken()),
          requestedScope: null,
        }),
      ),
    );
    expect(rotations.filter(Boolean)).toHaveLength(1);
    const revocations = await Promise.all(
      Array.from({ length: 5 }, () => grants.transaction((m) => grants.revokeGrant(grant_id, 'admin', m))),
    );
    expect(revocations.flat()).toEqual([{ id: grant_id, user_id: userId, client_id: client.clientId }]);
    const live = await sql(
      t.dataSource,
      `SELECT 1 FROM refresh_tokens WHERE grant_id = $1 AND revoked_at IS NULL`,
      [grant_id],
    );
    expect(live).toEqual([]);
  });

  it('rolls the revocation back with its transaction', async () => {
    const { code } = await issueCode(t, { client, userId });
    const { grant_id } = (await exchange(sha256Hex(code)))!;
    await expect(
      grants.transaction(async (m) => {
        await grants.revokeGrant(grant_id, 'admin', m);
        throw new Error('audit write failed');
      }),
    ).rejects.toThrow('audit write failed');
    const [row] = await sql<{ revoked_at: Date | null }>(
      t.dataSource,
      `SELECT revoked_at FROM grants WHERE id = $1`,
      [grant_id],
    );
    expect(row.revoked_at).toBeNull();
  });

  it('refuses a wider scope in the rotation statement itself (nothing rotated)', async () => {
    const { code } = await issueCode(t, { client, userId, scope: 'api:read' });
    const token = randomToken();
    await exchange(sha256Hex(code), sha256Hex(token));
    const input = {
      tokenHash: sha256Hex(token),
      clientId: client.clientId,
      successorHash: sha256Hex(randomToken()),
    };
    expect(await repo.rotateRefresh({ ...input, requestedScope: 'api:read api:write' })).toBeUndefined();
    expect(await repo.rotateRefresh({ ...input, requestedScope: 'api:read' })).toBeDefined();
  });

  describe('client lockouts', () => {
    it('counts failures per key and locks at the limit', async () => {
      const lockouts = t.get(LockoutsRepository);
      const key = `c|${randomUUID()}`;
      expect(await lockouts.isClientLocked(key)).toBe(false);
      expect(await lockouts.recordClientFailure(key, 3, 60)).toEqual({ failures: 1, locked: false });
      expect(await lockouts.recordClientFailure(key, 3, 60)).toEqual({ failures: 2, locked: false });
      expect(await lockouts.recordClientFailure(key, 3, 60)).toEqual({ failures: 3, locked: true });
      expect(await lockouts.isClientLocked(key)).toBe(true);
      expect(await lockouts.isClientLocked(`${key}-other`)).toBe(false);
    });

    it('forgets failures older than the window', async () => {
      const lockouts = t.get(LockoutsRepository);
      const key = `c|${randomUUID()}`;
      await lockouts.recordClientFailure(key, 3, 60);
      await lockouts.recordClientFailure(key, 3, 60);
      await sql(
        t.dataSource,
        `UPDATE lockouts SET updated_at = now() - interval '61 seconds' WHERE key = $1`,
        [key],
      );
      expect(await lockouts.recordClientFailure(key, 3, 60)).toEqual({ failures: 1, locked: false });
    });

    it('counts concurrent failures exactly', async () => {
      const lockouts = t.get(LockoutsRepository);
      const key = `c|${randomUUID()}`;
      await Promise.all(Array.from({ length: 8 }, () => lockouts.recordClientFailure(key, 100, 60)));
      const [row] = await sql<{ failures: number }>(
        t.dataSource,
        `SELECT failures FROM lockouts WHERE key = $1`,
        [key],
      );
      expect(row.failures).toBe(8);
    });
  });
});
