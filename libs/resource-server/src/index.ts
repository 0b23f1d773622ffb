export { AccessToken } from './access-token.decorator';
export {
  AccessTokenVerifier,
  ACCESS_TOKEN_ALGORITHMS,
  DPOP_ALGORITHMS,
  type ResourceRequest,
  type VerifiedAccessToken,
} from './access-token.verifier';
export { IntrospectionCache } from './introspection-cache';
export { LatchkeyAuthGuard } from './latchkey-auth.guard';
export { InMemoryReplayStore, type ReplayStore } from './replay-store';
export { LatchkeyResourceServerModule } from './resource-server.module';
export {
  LATCHKEY_RESOURCE_SERVER_OPTIONS,
  type AccessDeniedEvent,
  type LatchkeyResourceServerOptions,
} from './resource-server.options';
export { LATCHKEY_INTROSPECT, LATCHKEY_SCOPES } from './metadata-keys';
export { Introspect, Scopes } from './scopes.decorator';
export { TokenError } from './token-error';
