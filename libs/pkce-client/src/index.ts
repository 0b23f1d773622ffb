export { LatchkeyCallbackError } from './callback-error';
export {
  LATCHKEY_CLIENT_OPTIONS,
  LATCHKEY_CLIENT_STORE,
  type LatchkeyClientOptions,
  type SignInEvent,
} from './client.options';
export type { LatchkeyClientStore, PendingAuthorization, SessionTokens } from './client-store';
export { InMemoryClientStore } from './in-memory-client.store';
export { LatchkeyClientModule } from './latchkey-client.module';
export { LatchkeyClientService, hash, safeReturnTo, type SignedInSession } from './latchkey-client.service';
export {
  PostgresClientStore,
  type PostgresClientStoreOptions,
  type Queryable,
} from './postgres-client.store';
export { readCookie, sessionCookie, DEFAULT_COOKIE_NAME } from './session-cookie';
export { LatchkeySession, SignedInGuard, type LatchkeyRequestSession } from './signed-in.guard';
