import type { AuditEventType } from './events';

/**
 * The one list of `details.reason` codes per failure event type (EVENTS.md, extended where the code needed
 * it): the code emits only these, and the docs' event table lists exactly these (test/unit/common/
 * audit-reasons.spec.ts checks both). Each code means one thing everywhere.
 */
export const AUDIT_REASONS: Partial<Record<AuditEventType, readonly string[]>> = {
  'authorization.rejected': [
    'unknown_client',
    'client_disabled',
    'redirect_uri_mismatch',
    'unsupported_response_type',
    'pkce_missing_challenge',
    'pkce_method_missing',
    'pkce_plain_rejected',
    'pkce_method_unsupported',
    'pkce_malformed_challenge',
    'invalid_scope',
    'duplicate_parameter',
    'invalid_request',
    'unauthorized_client',
  ],
  'consent.denied': ['access_denied'],
  'login.failed': ['invalid_credentials', 'locked_out', 'csrf_failed'],
  'client.authentication_failed': [
    'unknown_client',
    'bad_secret',
    'method_not_allowed',
    'multiple_methods',
    'locked_out',
    'malformed_credentials',
  ],
  'token.request_failed': [
    'invalid_request',
    'unsupported_grant_type',
    'unauthorized_client',
    'pkce_verifier_malformed',
    'pkce_verifier_mismatch',
    'code_unknown',
    'code_expired',
    'code_replayed',
    'code_revoked',
    'code_client_mismatch',
    'code_redirect_uri_mismatch',
    'refresh_unknown',
    'refresh_expired',
    'refresh_reused',
    'refresh_revoked',
    'refresh_client_mismatch',
    'invalid_scope',
  ],
  'token.revocation_failed': ['invalid_request', 'unknown_token', 'token_client_mismatch'],
  'token.introspected': ['invalid_request'],
  'api.access_denied': ['missing_token', 'invalid_token', 'insufficient_scope'],
  'request.rate_limited': ['rate_limited'],
};
