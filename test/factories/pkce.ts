import { randomToken, sha256Base64url } from '../../src/common/crypto';

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomToken();
  return { verifier, challenge: sha256Base64url(verifier) };
}
