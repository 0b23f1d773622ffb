import { isBuiltinScope, isScopeToken, OIDC_SCOPES } from '../../common/scopes';
import { CheckResult, fail, pass } from './rejection';

/**
 * docs/authorization.md rule 4: the requested scopes must all be registered for the client (and still configured in
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
    if (!isScopeToken(s)) return fail('invalid_scope', 'invalid_scope', 'the scope parameter is malformed');
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
