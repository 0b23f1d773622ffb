import type { GrantType } from '../../clients/client.entity';
import type { AuthenticatableClient } from '../../clients/clients.service';
import type { OAuthErrorCode } from '../../common/oauth-errors';
import { TokenRequestError, type FormParams } from '../oauth-request';

/** RFC 6749 §5.1 successful response (every response carries `scope`, CONTRACT.md). */
export interface TokenResponseBody {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** A grant's result: the response plus what token.issued records. */
export interface IssuedTokens {
  body: TokenResponseBody;
  /** user id, or the client id for client_credentials */
  subject: string;
  grantId: string;
  /** extra `token.issued` details (e.g. `grace_reuse` for a refresh token reused within REFRESH_REUSE_GRACE) */
  details?: Record<string, unknown>;
}

/** One grant type of the token endpoint (one file per grant under tokens/grants/). */
export interface TokenGrant<P = unknown> {
  readonly grantType: GrantType;
  /** Syntax only, before client authentication and without any lookup; throws invalid_request. */
  parse(params: FormParams): P;
  /** Runs the grant for an authenticated client allowed to use it. Throws OAuth errors. */
  exchange(client: AuthenticatableClient, params: P): Promise<IssuedTokens>;
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
