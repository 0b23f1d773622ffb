import { CheckResult, fail, pass } from './rejection';

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters of the base64url alphabet. */
export const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * PKCE is required for every client, public and confidential (OAuth 2.1 §4.1.1, docs/authorization.md rule 3):
 * a code_challenge, code_challenge_method exactly `S256` (absent is not defaulted to `plain`, `plain` is
 * refused), and a well-formed challenge. Each failure has its own audit reason (downgrade attempts are
 * reported by the security report).
 */
export function checkPkce(challenge: string | undefined, method: string | undefined): CheckResult<string> {
  if (challenge === undefined)
    return fail('invalid_request', 'pkce_missing_challenge', 'code_challenge is required (PKCE)');
  if (method === undefined)
    return fail(
      'invalid_request',
      'pkce_method_missing',
      'code_challenge_method is required and must be S256',
    );
  if (method === 'plain')
    return fail(
      'invalid_request',
      'pkce_plain_rejected',
      'code_challenge_method plain is not allowed, use S256',
    );
  if (method !== 'S256')
    return fail('invalid_request', 'pkce_method_unsupported', 'code_challenge_method must be S256');
  if (!CODE_CHALLENGE.test(challenge))
    return fail(
      'invalid_request',
      'pkce_malformed_challenge',
      'code_challenge must be 43 characters of base64url (BASE64URL(SHA256(code_verifier)))',
    );
  return pass(challenge);
}
