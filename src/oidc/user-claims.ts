/** What the OIDC claims are made of (UsersService.findProfile). */
export interface ClaimsSource {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  email_verified: boolean;
  updated_at: Date;
}

/** OIDC Core §5.1 / §5.4: the claims each granted scope releases (absent values are omitted, never null). */
export function scopedClaims(user: ClaimsSource, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.includes('profile')) {
    if (user.name) claims.name = user.name;
    claims.preferred_username = user.username;
    claims.updated_at = Math.floor(new Date(user.updated_at).getTime() / 1000);
  }
  if (scopes.includes('email') && user.email) {
    claims.email = user.email;
    claims.email_verified = user.email_verified === true;
  }
  return claims;
}

/** The OIDC claims this server can release (Discovery `claims_supported`). */
export const CLAIMS_SUPPORTED = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'amr',
  'sid',
  'name',
  'preferred_username',
  'updated_at',
  'email',
  'email_verified',
];
