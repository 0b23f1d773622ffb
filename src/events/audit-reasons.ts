import type { AuditEventType } from './events';

/** Why a DPoP proof (RFC 9449) was refused, wherever one is checked: the token endpoint and the bearer APIs. */
const DPOP_PROOF_REASONS = [
  'dpop_proof_multiple',
  'dpop_proof_malformed',
  'dpop_proof_typ',
  'dpop_proof_alg',
  'dpop_proof_jwk',
  'dpop_proof_bad_signature',
  'dpop_proof_htm_mismatch',
  'dpop_proof_htu_mismatch',
  'dpop_proof_iat',
  'dpop_proof_replayed',
  'dpop_nonce_missing',
  'dpop_nonce_invalid',
  'dpop_key_mismatch',
  'dpop_proof_missing',
] as const;

/**
 * The one list of `details.reason` codes per failure event type (docs/audit.md, extended where the code needed
 * it): the code emits only these, and the docs' event table lists exactly these (test/unit/events/
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
    // OpenID Connect (docs/openid-connect.md)
    'invalid_nonce',
    'invalid_prompt',
    'invalid_max_age',
    'login_required',
    'consent_required',
    // PAR (RFC 9126)
    'request_uri_invalid',
    'par_required',
  ],
  'consent.denied': ['access_denied'],
  'login.failed': ['invalid_credentials', 'locked_out', 'csrf_failed', 'user_disabled'],
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
    // DPoP (RFC 9449): proof refusals and bound codes/refresh tokens presented with another key
    ...DPOP_PROOF_REASONS,
  ],
  'token.revocation_failed': ['invalid_request', 'unknown_token', 'token_client_mismatch'],
  'token.introspected': ['invalid_request'],
  'api.access_denied': [
    'missing_token',
    'invalid_token',
    'insufficient_scope',
    ...DPOP_PROOF_REASONS,
    'dpop_proof_ath_mismatch',
    'dpop_not_bound',
  ],
  'userinfo.refused': ['missing_token', 'invalid_token', 'insufficient_scope', 'user_disabled'],
  'logout.refused': ['id_token_hint_invalid', 'client_mismatch'],
  'request.rate_limited': ['rate_limited'],
};
