import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { STATEMENT_BATCH_MAX } from '../../src/database/statement-batch';
import {
  SHARED_STATEMENT_MIN,
  type GrantTokensRow,
  type RefreshRotation,
  TokensRepository,
} from '../../src/tokens/tokens.repository';
import { createClient, type TestClient } from '../factories/clients';
import { insertUserRow, issueCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { countingStatements, statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * TokensRepository.rotateRefresh: SHARED_STATEMENT_MIN or more refresh rotations that reach the repository in the
 * same turn of the event loop are made by one statement. Each caller gets its own grant's row, or nothing when
 * its token is not rotatable — decided, for a rotation the shared statement did not make, by a statement of its
 * own.
 */
describe('refresh rotations batched on the real database', () => {
  let t: TestApp;
  let repo: TokensRepository;
  let client: TestClient;
  let otherClient: TestClient;
  let userId: string;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    repo = t.get(TokensRepository);
    client = await createClient(t, { scope: 'api:read api:write' });
    otherClient = await createClient(t);
    userId = await insertUserRow(t);
  });
  afterAll(() => t.close());

  /** A live grant with its refresh token: the token and the grant id. */
  const grantWithRefresh = async (scope = 'api:read api:write') => {
    const { code } = await issueCode(t, { client, userId, scope });
    const codeHash = sha256Hex(code);
    const [{ code_challenge }] = await sql<{ code_challenge: string }>(
      t.dataSource,
      `SELECT code_challenge FROM authorization_codes WHERE code_hash = $1`,
      [codeHash],
    );
    const token = randomToken();
    const row = await repo.exchangeCode({
      codeHash,
      grantId: randomUUID(),
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      codeChallenge: code_challenge,
      grantTtlSeconds: 3600,
      refreshHash: sha256Hex(token),
    });
    return { token, grantId: row!.grant_id };
  };
  const rotation = (token: string, extra: Partial<RefreshRotation> = {}): RefreshRotation => ({
    tokenHash: sha256Hex(token),
    clientId: client.clientId,
    successorHash: sha256Hex(randomToken()),
    requestedScope: null,
    ...extra,
  });
  const tokenRow = async (hash: string) =>
    (
      await sql<{ grant_id: string; rotated_at: Date | null; scope: string }>(
        t.dataSource,
        `SELECT grant_id, rotated_at, scope FROM refresh_tokens WHERE token_hash = $1`,
        [hash],
      )
    )[0];

  /** Counts the shared statements (`latchkey_rotate_refresh_batch_N`) run while `work` runs. */
  const countingBatches = <T>(work: () => Promise<T>) =>
    countingStatements(t, 'latchkey_rotate_refresh_batch_', work);

  it('rotates concurrent refresh tokens of different grants in one statement, each answered with its own grant', async () => {
    const live = await Promise.all(Array.from({ length: 5 }, () => grantWithRefresh()));
    const narrow = await grantWithRefresh('api:read');
    const rotated = await grantWithRefresh();
    await sql(t.dataSource, `UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1`, [
      sha256Hex(rotated.token),
    ]);
    const inputs = [
      ...live.map((g) => rotation(g.token)),
      rotation(live[0].token, { clientId: otherClient.clientId }), // another client's: never
      rotation(randomToken()), // unknown
      rotation(narrow.token, { requestedScope: 'api:read api:write' }), // wider than granted
      rotation(rotated.token), // already rotated
      rotation(narrow.token, { requestedScope: 'api:read' }), // within: rotates
    ];
    const { result, statements } = await countingBatches(() =>
      Promise.all(inputs.map((input) => repo.rotateRefresh(input))),
    );
    expect(statements).toBe(1);
    expect(result.map((row) => row?.grant_id)).toEqual([
      ...live.map((g) => g.grantId),
      undefined,
      undefined,
      undefined,
      undefined,
      narrow.grantId,
    ]);
    expect(result[0]).toMatchObject({ user_id: userId, scope: 'api:read api:write' });
    // each successor is in its own grant, with the grant's scope; each presented token is rotated
    for (const [i, input] of inputs.entries()) {
      const successor = await tokenRow(input.successorHash);
      if (result[i]) {
        expect(successor).toMatchObject({ grant_id: result[i]!.grant_id, rotated_at: null });
        expect((await tokenRow(input.tokenHash)).rotated_at).toBeInstanceOf(Date);
      } else {
        expect(successor).toBeUndefined();
      }
    }
    expect((await tokenRow(inputs[0].successorHash)).scope).toBe('api:read api:write');
    expect((await tokenRow(sha256Hex(narrow.token))).scope).toBe('api:read');
  });

  it('rotates a token presented twice in one statement once: one caller gets the successor, the other nothing', async () => {
    const { token, grantId } = await grantWithRefresh();
    const others = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN - 1 }, () => grantWithRefresh()),
    );
    const inputs = [rotation(token), ...others.map((g) => rotation(g.token)), rotation(token)];
    const { result, statements } = await countingBatches(() =>
      Promise.all(inputs.map((input) => repo.rotateRefresh(input))),
    );
    expect(statements).toBe(1);
    expect([result[0], result.at(-1)].filter(Boolean)).toHaveLength(1);
    expect(result.slice(1, -1).map((row) => row?.grant_id)).toEqual(others.map((g) => g.grantId));
    const tokens = await sql(t.dataSource, `SELECT 1 FROM refresh_tokens WHERE grant_id = $1`, [grantId]);
    expect(tokens).toHaveLength(2); // the token and one successor
    expect(await repo.rotateRefresh(rotation(token))).toBeUndefined(); // rotated now
  });

  it(`splits more than ${STATEMENT_BATCH_MAX} concurrent rotations into statements of at most that many`, async () => {
    const count = STATEMENT_BATCH_MAX + SHARED_STATEMENT_MIN;
    const grants = await Promise.all(Array.from({ length: count }, () => grantWithRefresh()));
    const { result, statements } = await countingBatches(() =>
      Promise.all(grants.map((g) => repo.rotateRefresh(rotation(g.token)))),
    );
    expect(statements).toBe(2);
    expect(result.map((row) => row?.grant_id)).toEqual(grants.map((g) => g.grantId));
  });

  it(`runs fewer than ${SHARED_STATEMENT_MIN} concurrent rotations one statement each`, async () => {
    const grants = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN - 1 }, () => grantWithRefresh()),
    );
    const { result, statements } = await countingBatches(() =>
      Promise.all(grants.map((g) => repo.rotateRefresh(rotation(g.token)))),
    );
    expect(statements).toBe(0);
    expect(result.map((row) => row?.grant_id)).toEqual(grants.map((g) => g.grantId));
  });

  it('rotates each on its own when the database refuses the shared statement (one bad rotation fails no other)', async () => {
    const grants = await Promise.all(Array.from({ length: SHARED_STATEMENT_MIN }, () => grantWithRefresh()));
    const { pool, method } = statementRunner(t);
    const failure = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const spy = jest.spyOn(pool, method).mockRejectedValueOnce(failure);
    let result: (GrantTokensRow | undefined)[];
    try {
      result = await Promise.all(grants.map((g) => repo.rotateRefresh(rotation(g.token))));
    } finally {
      spy.mockRestore();
    }
    expect(result.map((row) => row?.grant_id)).toEqual(grants.map((g) => g.grantId));
    for (const g of grants) expect((await tokenRow(sha256Hex(g.token))).rotated_at).toBeInstanceOf(Date);
  });

  it('fails every rotation of a statement when the database cannot be reached (nothing is guessed)', async () => {
    const grants = await Promise.all(Array.from({ length: SHARED_STATEMENT_MIN }, () => grantWithRefresh()));
    const { pool, method } = statementRunner(t);
    const spy = jest
      .spyOn(pool, method)
      .mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(grants.map((g) => repo.rotateRefresh(rotation(g.token))));
    } finally {
      spy.mockRestore();
    }
    expect(results.map((r) => r.status)).toEqual(grants.map(() => 'rejected'));
    expect((await repo.rotateRefresh(rotation(grants[0].token)))?.grant_id).toBe(grants[0].grantId);
  });
});
