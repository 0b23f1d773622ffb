import type { LatchkeyClientStore, PendingAuthorization, SessionTokens } from '@latchkey/pkce-client';

/**
 * The guarantees every LatchkeyClientStore gives, as tests: run by the in-memory store's unit test and by the
 * PostgreSQL store's integration test (PGlite and PostgreSQL 15). `clock.now` is the store's clock.
 */
export function storeContract(
  make: () => Promise<{ store: LatchkeyClientStore; clock: { now: number } }>,
): void {
  let store: LatchkeyClientStore;
  let clock: { now: number };
  beforeEach(async () => {
    ({ store, clock } = await make());
  });

  const pending = (overrides: Partial<PendingAuthorization> = {}): PendingAuthorization => ({
    sessionKey: 'session-hash',
    codeVerifier: 'v'.repeat(43),
    nonce: 'n-123',
    returnTo: '/reports',
    expiresAt: clock.now + 15 * 60_000,
    ...overrides,
  });
  const tokens: SessionTokens = {
    accessToken: 'at',
    refreshToken: 'rt',
    accessTokenExpiresAt: 1,
    scope: 'api:read',
    subject: 'u1',
  };

  it('returns a pending sign-in once, then never again (single-use)', async () => {
    await store.savePending('state-a', pending());
    await expect(store.takePending('state-a')).resolves.toEqual(pending());
    await expect(store.takePending('state-a')).resolves.toBeUndefined();
  });

  it('never returns an unknown state', async () => {
    await store.savePending('state-a', pending());
    await expect(store.takePending('state-b')).resolves.toBeUndefined();
  });

  it('never returns an expired pending sign-in, and removes it', async () => {
    await store.savePending('state-old', pending());
    clock.now += 15 * 60_000;
    await expect(store.takePending('state-old')).resolves.toBeUndefined();
    clock.now -= 60_000;
    await expect(store.takePending('state-old')).resolves.toBeUndefined();
  });

  it('hands a pending sign-in to exactly one of concurrent takers', async () => {
    await store.savePending('state-race', pending());
    const results = await Promise.all(Array.from({ length: 5 }, () => store.takePending('state-race')));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps, replaces, expires and deletes session tokens', async () => {
    await store.saveSession('s1', tokens, clock.now + 1000);
    await expect(store.getSession('s1')).resolves.toEqual(tokens);
    await store.saveSession('s1', { ...tokens, accessToken: 'at2' }, clock.now + 1000);
    await expect(store.getSession('s1')).resolves.toMatchObject({ accessToken: 'at2' });
    await expect(store.getSession('s2')).resolves.toBeUndefined();
    clock.now += 1000;
    await expect(store.getSession('s1')).resolves.toBeUndefined();
    await store.saveSession('s3', tokens, clock.now + 1000);
    await store.deleteSession('s3');
    await expect(store.getSession('s3')).resolves.toBeUndefined();
  });
}
