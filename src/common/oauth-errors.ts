/**
 * Protocol errors (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1). Services throw these; filters render them.
 * `reason` is the audit reason code (docs/audit.md) when it is more precise than the OAuth error code.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'slow_down'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

export function statusOf(code: OAuthErrorCode): number {
  switch (code) {
    case 'invalid_request':
    case 'invalid_grant':
    case 'unauthorized_client':
    case 'unsupported_grant_type':
    case 'unsupported_response_type':
    case 'unsupported_token_type':
    case 'invalid_scope':
    case 'invalid_dpop_proof':
    case 'use_dpop_nonce':
      return 400;
    case 'invalid_client':
    case 'invalid_token':
      return 401;
    case 'access_denied':
    case 'insufficient_scope':
      return 403;
    case 'slow_down':
      return 429;
    case 'server_error':
      return 500;
    case 'temporarily_unavailable':
      return 503;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

export class OAuthError extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    readonly description: string,
    readonly reason: string = code,
  ) {
    super(description);
  }

  get status(): number {
    return statusOf(this.code);
  }
}

export class InvalidRequest extends OAuthError {
  constructor(description: string, reason = 'invalid_request') {
    super('invalid_request', description, reason);
  }
}
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed', reason = 'bad_secret') {
    super('invalid_client', description, reason);
  }
}
export class InvalidGrant extends OAuthError {
  constructor(description: string, reason: string) {
    super('invalid_grant', description, reason);
  }
}
export class UnauthorizedClient extends OAuthError {
  constructor(description: string) {
    super('unauthorized_client', description, 'unauthorized_client');
  }
}
export class UnsupportedGrantType extends OAuthError {
  constructor(description: string) {
    super('unsupported_grant_type', description, 'unsupported_grant_type');
  }
}
export class InvalidScope extends OAuthError {
  constructor(description: string) {
    super('invalid_scope', description, 'invalid_scope');
  }
}
export class AccessDenied extends OAuthError {
  constructor(description: string) {
    super('access_denied', description, 'access_denied');
  }
}
export class TemporarilyUnavailable extends OAuthError {
  constructor(description = 'the service is temporarily unavailable, retry later') {
    super('temporarily_unavailable', description, 'temporarily_unavailable');
  }
}

/**
 * A refused DPoP proof (RFC 9449 §5, §7.1, §8, §9): 400 at the authorization server's endpoints; 401 with a
 * `WWW-Authenticate: DPoP` challenge at a protected resource (`atResource`). `nonce` is sent as `DPoP-Nonce`.
 */
export class DpopProofError extends OAuthError {
  constructor(
    code: 'invalid_dpop_proof' | 'use_dpop_nonce',
    description: string,
    reason: string,
    readonly atResource = false,
    readonly nonce?: string,
  ) {
    super(code, description, reason);
  }

  override get status(): number {
    return this.atResource ? 401 : 400;
  }

  /** The same refusal, as a protected resource answers it. */
  forResource(): DpopProofError {
    return new DpopProofError(
      this.code as 'invalid_dpop_proof',
      this.description,
      this.reason,
      true,
      this.nonce,
    );
  }
}

/** 429 slow_down with `Retry-After: retryAfter` (docs/abuse-protection.md). */
export class SlowDown extends OAuthError {
  constructor(readonly retryAfter: number) {
    super('slow_down', `too many requests: retry after ${retryAfter} s`, 'rate_limited');
  }
}
