import { LockoutsRepository, type LockoutPolicy } from '../../src/rate-limit/lockouts.repository';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * The admission count of LockoutsRepository.beginAttempt, straight against the database: of many attempts on
 * one key at once, exactly `threshold` are admitted (their verdicts are pending), however fast the database is.
 * PGlite's clock has millisecond resolution: statements in one millisecond share `now()`, which once made a
 * refused attempt look admitted.
 */
describe('login lockout admission (database)', () => {
  let t: TestApp;
  let lockouts: LockoutsRepository;
  const policy: LockoutPolicy = { threshold: 5, baseSeconds: 60, maxSeconds: 900, resetSeconds: 43_200 };

  beforeAll(async () => {
    t = await createTestApp();
    lockouts = t.get(LockoutsRepository);
  });
  afterAll(() => t.close());

  it('admits exactly the threshold of 40 simultaneous attempts, and refuses the rest without a lock', async () => {
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, () => lockouts.beginAttempt('key-a', policy)),
    );
    expect(verdicts.filter((v) => v.admitted)).toHaveLength(5);
    expect(verdicts.filter((v) => !v.admitted && !v.locked)).toHaveLength(35);
  });

  it('admits the next attempts once the pending verdicts failed and locked the key: none, locked', async () => {
    for (let i = 0; i < 5; i++) await lockouts.beginAttempt('key-b', policy);
    expect(await lockouts.recordFailure('key-b', policy)).toBeInstanceOf(Date);
    const after = await Promise.all(Array.from({ length: 10 }, () => lockouts.beginAttempt('key-b', policy)));
    expect(after.every((v) => !v.admitted && v.locked)).toBe(true);
  });

  it('admits again after a success resets the key', async () => {
    for (let i = 0; i < 5; i++) await lockouts.beginAttempt('key-c', policy);
    expect((await lockouts.beginAttempt('key-c', policy)).admitted).toBe(false);
    await lockouts.reset('key-c');
    expect(await lockouts.beginAttempt('key-c', policy)).toEqual({ admitted: true, locked: false });
  });
});
