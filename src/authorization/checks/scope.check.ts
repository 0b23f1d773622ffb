import { BUILTIN_SCOPES, OIDC_SCOPES } from '../../config/environment';
import { CheckResult, fail, pass } from './rejection';

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function isBuiltinScope(scope: string): boolean {
  return BUILTIN_SCOPES.includes(scope);
}

/**
 * CONTRACT.md rule 4: the requested scopes must all be registered for the client (and still configured in
 * SCOPES); absent means every registered scope except the built-in ones; built-in scopes (`clients:*`,
 * `audit:read`) are for client_credentials only and never granted to a user here. Returns the scopes to
 * grant, de-duplicated, in request order.
 */
export function resolveScope(
  requested: string | undefined,
  registered: readonly string[],
  configured: readonly string[],
): CheckResult<string[]> {
  // the OIDC scopes (openid, profile, email) are built in: grantable whenever registered
  const grantable = (s: string) =>
    registered.includes(s) && (configured.includes(s) || OIDC_SCOPES.includes(s)) && !isBuiltinScope(s);
  if (requested === undefined) return pass(registered.filter(grantable));
  const tokens = [...new Set(requested.split(' ').filter(Boolean))];
  if (tokens.length === 0) return pass(registered.filter(grantable));
  for (const s of tokens) {
    if (!SCOPE_TOKEN.test(s))
      return fail('invalid_scope', 'invalid_scope', 'the scope parameter is malformed');
    if (isBuiltinScope(s))
      return fail('invalid_scope', 'invalid_scope', `the scope ${s} cannot be granted by a user`);
    if (!grantable(s))
      return fail(
        'invalid_scope',
        'invalid_scope',
        `the scope ${s.slice(0, 100)} is not registered for this client`,
      );
  }
  return pass(tokens);
}
