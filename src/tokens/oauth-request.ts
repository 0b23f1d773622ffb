import { bodyOf, mediaTypeOf, type HttpReply, type HttpRequest } from '../http/http';
import type { AuthenticatableClient } from '../clients/clients.service';
import { isScopeToken } from '../common/scopes';
import { InvalidRequest, InvalidScope, OAuthError, type OAuthErrorCode } from '../common/oauth-errors';
import type { FormParams } from './form-params';
import type { PresentedCredentials } from './client-auth/presented-credentials';

export type { FormParams } from './form-params';

/** What the request guards attach to the request for the handlers (parsed once, authenticated once). */
export interface OAuthRequestState {
  params: FormParams;
  /** Which client authentication the request presents (set by ClientAuthGuard, read by the strategies). */
  presented?: PresentedCredentials;
  /** The reply that answers CORS requests from the client's redirect URI origins (token, revoke; not introspect). */
  cors?: HttpReply;
  /** The authenticated client (set by ClientAuthGuard). */
  client?: AuthenticatableClient;
  /** Grant-specific parsed parameters (token endpoint). */
  parsed?: unknown;
}

export type OAuthRequest = HttpRequest & { oauth?: OAuthRequestState };

/**
 * Reads the body of a token, revocation or introspection request (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1):
 * `application/x-www-form-urlencoded` only; a repeated parameter is `invalid_request` (RFC 6749 §3.2: "parameters
 * MUST NOT be included more than once" — the urlencoded parser gives arrays for them); a parameter sent without a
 * value is treated as omitted (RFC 6749 §3.1).
 */
export function readForm(req: HttpRequest): FormParams {
  if (mediaTypeOf(req) !== 'application/x-www-form-urlencoded') {
    throw new InvalidRequest('the request body must be application/x-www-form-urlencoded');
  }
  const body = bodyOf(req) ?? {};
  const params: Record<string, string | undefined> = Object.create(null);
  for (const name of Object.keys(body)) {
    const value = body[name];
    if (Array.isArray(value)) {
      throw new InvalidRequest(`parameter ${printable(name)} is repeated`);
    }
    if (typeof value !== 'string') {
      throw new InvalidRequest(`parameter ${printable(name)} is malformed`);
    }
    if (value !== '') params[name] = value;
  }
  return params;
}

/** A required parameter, or invalid_request naming it. */
export function required(params: FormParams, name: string, reason = 'invalid_request'): string {
  const value = params[name];
  if (value === undefined) throw new InvalidRequest(`parameter ${name} is required`, reason);
  return value;
}

/**
 * A `scope` parameter as a list of distinct scope tokens (space-delimited, RFC 6749 §3.3), or undefined when
 * absent. A malformed value is `invalid_scope` (RFC 6749 §5.2).
 */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  if (value.length > 2000) throw new InvalidScope('the scope parameter is too long');
  const scopes = value.split(' ').filter(Boolean);
  if (scopes.length === 0) return undefined;
  for (const s of scopes) {
    if (!isScopeToken(s)) throw new InvalidScope('the scope parameter is malformed');
  }
  return [...new Set(scopes)];
}

/** A protocol error that carries audit details (and whether its failure event was already written). */
export class TokenRequestError extends OAuthError {
  constructor(
    code: OAuthErrorCode,
    description: string,
    reason: string,
    readonly details: Record<string, unknown> = {},
    /** true when the failure event was written already (inside a revocation's transaction). */
    readonly audited = false,
  ) {
    super(code, description, reason);
  }
}

/** Parameter names are attacker-controlled: keep them short and printable in error descriptions. */
function printable(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
