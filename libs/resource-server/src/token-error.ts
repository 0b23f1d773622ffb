/**
 * A refused request, as RFC 6750 §3 / RFC 9449 §7.1 describe it: the HTTP status, the authentication scheme
 * of the challenge and the error code. The guard turns it into the response with its WWW-Authenticate header.
 */
export class TokenError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 503,
    /** the error code; undefined when no credentials were sent at all (RFC 6750 §3.1) */
    readonly error:
      'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | undefined,
    readonly description: string,
    readonly scheme: 'Bearer' | 'DPoP' = 'Bearer',
    /** for insufficient_scope: the scopes the route needs */
    readonly scope?: string,
  ) {
    super(description);
    this.name = 'TokenError';
  }
}
