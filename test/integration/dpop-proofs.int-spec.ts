import { jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { sql } from '../../src/database/sql';
import { DpopProofsRepository } from '../../src/dpop/dpop-proofs.repository';
import { countingStatements, statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * DpopProofsRepository: the DPoP replay store (RFC 9449 §11.1). Proofs recorded in the same turn of the event loop
 * share one statement; each is still accepted once — against the rows already there and against the other calls
 * of its batch.
 */
describe('the DPoP replay store on the real database', () => {
  let t: TestApp;
  let repo: DpopProofsRepository;

  beforeAll(async () => {
    t = await createTestApp();
    repo = t.get(DpopProofsRepository);
  });
  afterAll(() => t.close());

  const hash = () => randomBytes(32).toString('hex');
  /** seconds from now until each proof's row expires, by hash */
  const lifetimes = async (hashes: string[]) =>
    new Map(
      (
        await sql<{ h: string; s: number }>(
          t.dataSource,
          `SELECT proof_hash AS h, round(extract(epoch FROM expires_at - now()))::int AS s
             FROM dpop_proofs WHERE proof_hash = ANY($1::text[])`,
          [hashes],
        )
      ).map((r) => [r.h.trim(), r.s]),
    );

  it('records concurrent proofs in one statement, each with its own lifetime', async () => {
    const hashes = [hash(), hash(), hash(), hash(), hash()];
    const { result, statements } = await countingStatements(t, 'latchkey_remember_dpop_proofs_', () =>
      Promise.all(hashes.map((h, i) => repo.remember(h, 60 + i))),
    );
    expect(statements).toBe(1);
    expect(result).toEqual([true, true, true, true, true]);
    const seconds = await lifetimes(hashes);
    hashes.forEach((h, i) => expect(seconds.get(h)).toBe(60 + i));
  });

  it('refuses a proof recorded before, alone and among new ones', async () => {
    const old = hash();
    expect(await repo.remember(old, 60)).toBe(true);
    expect(await repo.remember(old, 60)).toBe(false);
    const fresh = [hash(), hash()];
    expect(
      await Promise.all([repo.remember(fresh[0], 60), repo.remember(old, 60), repo.remember(fresh[1], 60)]),
    ).toEqual([true, false, true]);
  });

  it('accepts one of the concurrent uses of one proof, the first, and refuses the others', async () => {
    const same = hash();
    const other = hash();
    const results = await Promise.all([
      repo.remember(same, 60),
      repo.remember(other, 60),
      repo.remember(same, 60),
      repo.remember(same, 60),
    ]);
    expect(results).toEqual([true, true, false, false]);
    expect([...(await lifetimes([same, other])).keys()].sort()).toEqual([same, other].sort());
  });

  it('when the database refuses the shared statement, each proof runs alone: only the bad one fails', async () => {
    const good = [hash(), hash()];
    const tooLong = `${hash()}ff`; // 66 characters: the column holds 64
    const results = await Promise.allSettled([
      repo.remember(good[0], 60),
      repo.remember(tooLong, 60),
      repo.remember(good[1], 60),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([true, true]);
    expect([...(await lifetimes(good)).keys()].sort()).toEqual([...good].sort());
  });

  it('fails every proof of a statement when the database cannot be reached (none accepted)', async () => {
    const hashes = [hash(), hash()];
    const { pool, method } = statementRunner(t);
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const spy = jest.spyOn(pool, method).mockRejectedValueOnce(down);
    try {
      const results = await Promise.allSettled(hashes.map((h) => repo.remember(h, 60)));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    } finally {
      spy.mockRestore();
    }
    expect((await lifetimes(hashes)).size).toBe(0);
  });
});
