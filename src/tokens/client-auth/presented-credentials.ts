import type { TokenEndpointAuthMethod } from '../../clients/client';
import { InvalidClient, InvalidRequest } from '../../common/oauth-errors';
import type { FormParams } from '../form-params';

/** The client authentication a request carries: exactly one method (docs/tokens.md). */
export type PresentedCredentials =
  | { method: 'client_secret_basic'; clientId: string; secret: string }
  | { method: 'client_secret_post'; clientId: string; secret: string }
  | { method: 'none'; clientId: string };

export type ClientAuthFailureReason =
  | 'unknown_client'
  | 'bad_secret'
  | 'method_not_allowed'
  | 'multiple_methods'
  | 'locked_out'
  | 'malformed_credentials';

/** Strict base64 (RFC 4648 §4), as RFC 7617 requires for the Basic credentials. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Decodes `Authorization: Basic …` per RFC 6749 §2.3.1: the client id and secret are form-urlencoded
 * (application/x-www-form-urlencoded, so '+' is a space) before base64. Malformed → invalid_client.
 */
export function decodeBasic(header: string): { clientId: string; secret: string } {
  const match = /^basic +(\S+) *$/i.exec(header);
  if (!match || !BASE64.test(match[1]) || match[1].length % 4 !== 0) {
    throw new InvalidClient('malformed Basic credentials', 'malformed_credentials');
  }
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClient('malformed Basic credentials', 'malformed_credentials');
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === undefined || secret === undefined || clientId === '') {
    throw new InvalidClient('malformed Basic credentials', 'malformed_credentials');
  }
  return { clientId, secret };
}

function formDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * Which client authentication the request presents. Exactly one method: Basic plus a body `client_secret`,
 * or a body `client_id` other than the Basic user, is `invalid_request` (a body `client_id` equal to the
 * Basic user is not a second method). No client identification at all → invalid_client (RFC 6749 §5.2).
 */
export function presentedCredentials(
  authorization: string | undefined,
  params: FormParams,
): PresentedCredentials {
  const bodyId = params.client_id;
  const bodySecret = params.client_secret;
  if (authorization !== undefined && authorization !== '') {
    if (!/^basic /i.test(authorization)) {
      throw new InvalidClient('only HTTP Basic client authentication is supported', 'method_not_allowed');
    }
    const basic = decodeBasic(authorization);
    if (bodySecret !== undefined) {
      throw new InvalidRequest('use exactly one client authentication method', 'multiple_methods');
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new InvalidRequest('client_id does not match the Basic credentials', 'multiple_methods');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (bodyId === undefined) {
    throw new InvalidClient('client authentication is required', 'unknown_client');
  }
  if (bodySecret !== undefined) {
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  return { method: 'none', clientId: bodyId };
}

/** The strategy names registered with passport, one per token_endpoint_auth_method. */
export const CLIENT_AUTH_STRATEGIES: Record<TokenEndpointAuthMethod, string> = {
  client_secret_basic: 'client_secret_basic',
  client_secret_post: 'client_secret_post',
  none: 'client_none',
};
