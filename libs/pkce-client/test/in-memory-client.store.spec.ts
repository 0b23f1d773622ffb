import { InMemoryClientStore } from '@latchkey/pkce-client';
import { storeContract } from './store-contract';

describe('InMemoryClientStore', () => {
  storeContract(async () => {
    const clock = { now: 1_800_000_000_000 };
    return { store: new InMemoryClientStore(1000, () => clock.now), clock };
  });

  it('stays bounded: past maxEntries the oldest pending sign-ins are dropped', async () => {
    const now = 1_800_000_000_000;
    const store = new InMemoryClientStore(2, () => now);
    const entry = { sessionKey: 's', codeVerifier: 'v', returnTo: '/', expiresAt: now + 1000 };
    for (const key of ['a', 'b', 'c']) await store.savePending(key, entry);
    await expect(store.takePending('a')).resolves.toBeUndefined();
    await expect(store.takePending('c')).resolves.toBeDefined();
  });
});
