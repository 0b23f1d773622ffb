/**
 * The scope grammar and the built-in scopes, defined once (configuration, client registration, the authorize
 * and token endpoints all use these).
 */

/** The longest scope token this server accepts anywhere (SCOPES, a registration, a request). */
export const MAX_SCOPE_TOKEN_LENGTH = 100;

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), here at most MAX_SCOPE_TOKEN_LENGTH long. */
const SCOPE_TOKEN = new RegExp(`^[\\x21\\x23-\\x5b\\x5d-\\x7e]{1,${MAX_SCOPE_TOKEN_LENGTH}}$`);

export function isScopeToken(value: string): boolean {
  return SCOPE_TOKEN.test(value);
}

/**
 * Scopes that grant access to this server's own APIs, /admin and /audit (docs/admin-api.md): for
 * client_credentials only, never granted to a user, never listed in SCOPES.
 */
export const BUILTIN_SCOPES: readonly string[] = [
  'clients:read',
  'clients:write',
  'audit:read',
  'users:read',
  'users:write',
  'metrics:read',
];

/** OpenID Connect's built-in user scopes: registrable on any client, never granted to client_credentials. */
export const OIDC_SCOPES: readonly string[] = ['openid', 'profile', 'email'];

export function isBuiltinScope(scope: string): boolean {
  return BUILTIN_SCOPES.includes(scope);
}
