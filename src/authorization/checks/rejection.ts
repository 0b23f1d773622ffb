/**
 * A failed authorization-request check: the OAuth error (RFC 6749 §4.1.2.1), the audit reason code
 * (docs/audit.md, authorization.rejected) and a description safe to show and to put in `error_description`
 * (printable ASCII without `"` or `\`, RFC 6749 §4.1.2.1).
 */
export interface Rejection {
  error: 'invalid_request' | 'unauthorized_client' | 'unsupported_response_type' | 'invalid_scope';
  reason: string;
  description: string;
}

export type CheckResult<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export const pass = <T>(value: T): CheckResult<T> => ({ ok: true, value });
export const fail = <T = never>(
  error: Rejection['error'],
  reason: string,
  description: string,
): CheckResult<T> => ({ ok: false, rejection: { error, reason, description } });
