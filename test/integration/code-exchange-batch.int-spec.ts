import { jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { randomToken, sha256Base64url, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import {
  type CodeExchange,
  type GrantTokensRow,
  SHARED_STATEMENT_MIN,
  TokensRepository,
} from '../../src/tokens/tokens.repository';
import { createClient, type TestClient } from '../factories/clients';
import { codeExchangeOf, insertUserRow, issueCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { countingStatements, statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * TokensRepository.exchangeCode: SHARED_STATEMENT_MIN or more code exchanges that reach the repository in the
 * same turn of the event loop are made by one statement. Each caller gets its own grant, or nothing when its code
 * is not exchangeable — decided, for an exchange the shared statement did not make, by a statement of its own.
 */
describe('code exchanges batched on the real database', () => {
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

  /** A fresh code and the exchange that its verifier makes (overrides: what a caller got wrong). */
  const exchangeOf = async (extra: Partial<CodeExchange> = {}, ttlSeconds = 60): Promise<CodeExchange> => {
    return { ...codeExchangeOf(client, await issueCode(t, { client, userId, ttlSeconds })), ...extra };
  };
  /** Counts the shared statements (`latchkey_exchange_code_batch_N`) run while `work` runs. */
  const countingShared = <T>(work: () => Promise<T>) =>
    countingStatements(t, 'latchkey_exchange_code_batch_', work);
  const codeRow = async (hash: string) =>
    (
      await sql<{ consumed_at: Date | null; grant_id: string | null }>(
        t.dataSource,
        `SELECT consumed_at, grant_id FROM authorization_codes WHERE code_hash = $1`,
        [hash],
      )
    )[0];

  it('exchanges concurrent codes in one statement, each caller answered with its own grant and refresh token', async () => {
    const good = await Promise.all(Array.from({ length: 4 }, () => exchangeOf()));
    const noRefresh = await exchangeOf({ refreshHash: null });
    const inputs = [
      ...good,
      noRefresh,
      await exchangeOf({ codeChallenge: sha256Base64url('a'.repeat(43)) }), // another verifier
      await exchangeOf({ clientId: otherClient.clientId }), // another client
      await exchangeOf({ redirectUri: 'http://127.0.0.1:1/elsewhere' }), // another redirect URI
      { ...(await exchangeOf()), codeHash: sha256Hex(randomToken()) }, // unknown code
    ];
    const { result, statements } = await countingShared(() =>
      Promise.all(inputs.map((input) => repo.exchangeCode(input))),
    );
    expect(statements).toBe(1);
    expect(result.map((row) => row?.grant_id)).toEqual([
      ...good.map((g) => g.grantId),
      noRefresh.grantId,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(result[0]).toMatchObject({ user_id: userId, scope: 'api:read api:write' });
    for (const [i, input] of inputs.entries()) {
      const code = await codeRow(input.codeHash);
      const refresh = input.refreshHash
        ? await sql(t.dataSource, `SELECT grant_id FROM refresh_tokens WHERE token_hash = $1`, [
            input.refreshHash,
          ])
        : [];
      if (result[i]) {
        expect(code).toMatchObject({ consumed_at: expect.any(Date), grant_id: input.grantId });
        expect(refresh).toEqual(input.refreshHash ? [{ grant_id: input.grantId }] : []);
      } else {
        expect(code?.consumed_at ?? null).toBeNull();
        expect(refresh).toEqual([]);
      }
    }
  });

  it('exchanges a code presented twice in one statement once: one grant', async () => {
    const code = await exchangeOf();
    const twice = { ...code, grantId: randomUUID(), refreshHash: sha256Hex(randomToken()) };
    const others = await Promise.all(Array.from({ length: SHARED_STATEMENT_MIN - 1 }, () => exchangeOf()));
    const inputs = [code, ...others, twice];
    const { result, statements } = await countingShared(() =>
      Promise.all(inputs.map((input) => repo.exchangeCode(input))),
    );
    expect(statements).toBe(1);
    expect([result[0], result.at(-1)].filter(Boolean)).toHaveLength(1);
    const grants = await sql(t.dataSource, `SELECT id FROM grants WHERE id = ANY ($1::uuid[])`, [
      [code.grantId, twice.grantId],
    ]);
    expect(grants).toHaveLength(1);
    expect(result.slice(1, -1).map((row) => row?.grant_id)).toEqual(others.map((o) => o.grantId));
  });

  it('exchanges each on its own when the database refuses the shared statement', async () => {
    const inputs = await Promise.all(Array.from({ length: SHARED_STATEMENT_MIN }, () => exchangeOf()));
    const { pool, method } = statementRunner(t);
    const spy = jest
      .spyOn(pool, method)
      .mockRejectedValueOnce(Object.assign(new Error('deadlock detected'), { code: '40P01' }));
    let result: (GrantTokensRow | undefined)[];
    try {
      result = await Promise.all(inputs.map((input) => repo.exchangeCode(input)));
    } finally {
      spy.mockRestore();
    }
    expect(result.map((row) => row?.grant_id)).toEqual(inputs.map((input) => input.grantId));
  });
});
