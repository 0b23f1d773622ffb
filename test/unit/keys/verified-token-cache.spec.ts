import { VerifiedTokenCache } from '../../../src/keys/verified-token-cache';

describe('VerifiedTokenCache', () => {
  const now = 1_000_000;
  const claims = (exp: number) => ({ exp, sub: 'u' });

  it('remembers a verified token by its exact string, with its kid', () => {
    const cache = new VerifiedTokenCache<{ exp: number; sub: string }>(10);
    cache.remember('a.b.c', 'kid-1', claims(now + 60));
    expect(cache.get('a.b.c', now)).toEqual({ kid: 'kid-1', claims: { exp: now + 60, sub: 'u' } });
    expect(cache.get('a.b.C', now)).toBeUndefined();
    expect(cache.get('a.b.c ', now)).toBeUndefined();
  });

  it('forgets a token once it has expired', () => {
    const cache = new VerifiedTokenCache<{ exp: number; sub: string }>(10);
    cache.remember('t', 'k', claims(now + 1));
    expect(cache.get('t', now)).toBeDefined();
    expect(cache.get('t', now + 1)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest entry when full, and never grows past its bound', () => {
    const cache = new VerifiedTokenCache<{ exp: number; sub: string }>(3);
    for (const t of ['t1', 't2', 't3', 't4']) cache.remember(t, 'k', claims(now + 60));
    expect(cache.size).toBe(3);
    expect(cache.get('t1', now)).toBeUndefined();
    expect(cache.get('t4', now)).toBeDefined();
    cache.remember('t4', 'k', claims(now + 60)); // already there: nothing evicted
    expect(cache.get('t2', now)).toBeDefined();
  });

  it('stores nothing with a size of 0, and hands out claims nobody can change', () => {
    expect(new VerifiedTokenCache<{ exp: number }>(0).size).toBe(0);
    const none = new VerifiedTokenCache<{ exp: number }>(0);
    none.remember('t', 'k', { exp: now + 60 });
    expect(none.get('t', now)).toBeUndefined();

    const cache = new VerifiedTokenCache<{ exp: number; sub: string }>(1);
    cache.remember('t', 'k', claims(now + 60));
    const entry = cache.get('t', now)!;
    expect(() => {
      (entry.claims as { sub: string }).sub = 'someone else';
    }).toThrow(TypeError);
  });
});
