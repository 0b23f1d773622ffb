import type { GrantType } from '../../clients/client';
import type { AuthenticatableClient } from '../../clients/clients.service';
import type { OAuthErrorCode } from '../../common/oauth-errors';
import type { VerifiedDpopProof } from '../../dpop/dpop-proof.verifier';
import type { StagedAuditEvent } from '../../events/events';
import type { ClaimsSource } from '../../oidc/user-claims';
import { TokenRequestError, type FormParams } from '../oauth-request';
import type { GrantTokensRow } from '../tokens.repository';

/** RFC 6749 §5.1 successful response (every response carries `scope`, docs/tokens.md). */
export interface TokenResponseBody {
  access_token: string;
  /** RFC 9449 §5: DPoP when the access token is bound to the request's DPoP key */
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  /** OIDC Core §3.1.3.3: for grants with the openid scope */
  id_token?: string;
}

/** A grant's result: the response plus what token.issued records. */
export interface IssuedTokens {
  body: TokenResponseBody;
  /** user id, or the client id for client_credentials */
  subject: string;
  grantId: string;
  /** extra `token.issued` details (e.g. `grace_reuse` for a refresh token reused within REFRESH_REUSE_GRACE) */
  details?: Record<string, unknown>;
  /**
   * True when the grant's statement wrote the staged `token.issued` (writesIssuedEvent); otherwise the grant has
   * discarded it and the event is recorded as any other (e.g. a refresh token reissued within the grace period).
   */
  issuedEventWritten?: boolean;
}

/** One grant type of the token endpoint (one file per grant under tokens/grants/). */
export interface TokenGrant<P = unknown> {
  readonly grantType: GrantType;
  /** Syntax only, before client authentication and without any lookup; throws invalid_request. */
  parse(params: FormParams): P;
  /**
   * True when the grant's statement can write the request's `token.issued` event with the grant (`issuedEvent`,
   * staged: audit/audit-sql.ts); the subject, `scope` and `grant_id` are then the statement's, and the result says
   * so (`issuedEventWritten`). When the statement makes no grant, the grant discards the event before it records
   * anything else (the refusal's own events).
   */
  readonly writesIssuedEvent?: boolean;
  /** Runs the grant for an authenticated client allowed to use it. Throws OAuth errors. */
  exchange(
    client: AuthenticatableClient,
    params: P,
    dpop?: VerifiedDpopProof,
    issuedEvent?: StagedAuditEvent,
  ): Promise<IssuedTokens>;
}

/** RFC 9449 §5: the token_type of a response whose access token is bound to `dpop` (or not). */
export function tokenTypeFor(dpop: VerifiedDpopProof | undefined): 'Bearer' | 'DPoP' {
  return dpop ? 'DPoP' : 'Bearer';
}

export function grantError(
  description: string,
  reason: string,
  details: Record<string, unknown> = {},
  code: OAuthErrorCode = 'invalid_grant',
): TokenRequestError {
  return new TokenRequestError(code, description, reason, details);
}

/** True when every requested scope is in `granted`. */
export function isSubset(requested: readonly string[], granted: readonly string[]): boolean {
  return requested.every((s) => granted.includes(s));
}

/** The user's profile the exchange or rotation statement read for an `openid` grant (undefined otherwise). */
export function profileOf(row: GrantTokensRow): ClaimsSource | undefined {
  if (row.user_id === null || row.username === null || row.updated_at === null) return undefined;
  return {
    id: row.user_id,
    username: row.username,
    name: row.name,
    email: row.email,
    email_verified: row.email_verified === true,
    updated_at: row.updated_at,
  };
}
