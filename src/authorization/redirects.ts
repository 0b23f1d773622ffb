/**
 * Builds the redirect back to the client (RFC 6749 §4.1.2 / §4.1.2.1) with `iss` (RFC 9207) on every
 * response, and `state` when the client sent one. Parameters are appended to any query the registered
 * redirect URI already has (RFC 6749 §3.1.2: that query must be retained).
 */
export function clientRedirect(
  redirectUri: string,
  params: Record<string, string | null | undefined>,
): string {
  // appended as text: the redirect URI the client registered stays byte for byte what it registered
  const base = redirectUri.split('#')[0];
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined) query.append(name, value);
  }
  const separator = !base.includes('?') ? '?' : base.endsWith('?') || base.endsWith('&') ? '' : '&';
  return `${base}${separator}${query.toString()}`;
}

export function successRedirect(
  redirectUri: string,
  code: string,
  state: string | null,
  issuer: string,
): string {
  return clientRedirect(redirectUri, { code, state, iss: issuer });
}

export function errorRedirect(
  redirectUri: string,
  error: string,
  description: string,
  state: string | null,
  issuer: string,
): string {
  return clientRedirect(redirectUri, { error, error_description: description, state, iss: issuer });
}
