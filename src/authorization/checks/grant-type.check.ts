import { CheckResult, fail, pass } from './rejection';

/** The client must be registered for the authorization_code grant (RFC 6749 §4.1.2.1 unauthorized_client). */
export function checkAuthorizationCodeGrant(grantTypes: readonly string[]): CheckResult<true> {
  if (grantTypes.includes('authorization_code')) return pass(true);
  return fail(
    'unauthorized_client',
    'unauthorized_client',
    'this client is not registered for the authorization_code grant',
  );
}
