/** Refresh tokens are randomToken(): 43 base64url characters. Anything else cannot be one (no lookup). */
export function looksLikeRefreshToken(token: string): boolean {
  return token.length === 43 && /^[A-Za-z0-9_-]{43}$/.test(token);
}

/** Access tokens are compact JWS (three base64url parts). */
export function looksLikeJwt(token: string): boolean {
  return token.length <= 4096 && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

export type TokenKind = 'access_token' | 'refresh_token';

/**
 * The order in which to try a token's kind: the hint first (RFC 7009 §2.1 / RFC 7662 §2.1: honoured, not
 * trusted — the other kind is tried too), otherwise what its shape suggests.
 */
export function lookupOrder(token: string, hint: TokenKind | undefined): TokenKind[] {
  const first: TokenKind = hint ?? (looksLikeJwt(token) ? 'access_token' : 'refresh_token');
  return first === 'access_token' ? ['access_token', 'refresh_token'] : ['refresh_token', 'access_token'];
}
