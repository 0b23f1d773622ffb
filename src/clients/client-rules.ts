import { randomToken } from '../common/crypto';
import { BUILTIN_SCOPES, isScopeToken, OIDC_SCOPES } from '../common/scopes';
import { GRANT_TYPES, type GrantType, type TokenEndpointAuthMethod } from './client.entity';

/**
 * The client registration rules as small pure functions (unit-tested on their own). The DTOs check each
 * field's shape; `clientRuleViolations` checks the combined client (after defaults, or after a PATCH is
 * merged into the stored client), so every path — API create, API patch, CLI — applies the same rules.
 */

export const MAX_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_LENGTH = 2000;
export const MAX_SCOPE_LENGTH = 1000;
export const MAX_CLIENT_NAME_LENGTH = 200;

/** RFC 3986 §3.1 scheme */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Loopback redirect URIs (RFC 8252 §7.3): the IP literals only, any port, http allowed. */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\])(:\d{1,5})?([/?]|$)/i;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A new client id: 128 random bits, prefixed so that it can never be mistaken for a user id (a UUID). */
export function generateClientId(): string {
  return `lk_${randomToken(16)}`;
}

export function isUuidShaped(value: string): boolean {
  return UUID.test(value);
}

/**
 * Why a redirect URI cannot be registered, or null when it can. Rules (RFC 6749 §3.1.2, RFC 8252 §7,
 * OAuth 2.1 §2.3.1): absolute, no fragment, no credentials, printable ASCII; `https`, or `http` on the
 * loopback IP literals 127.0.0.1 / [::1], or a private-use scheme in reverse-domain notation
 * (`com.example.app:/callback`). `localhost` is refused (RFC 8252 §8.3: it may resolve elsewhere).
 */
export function redirectUriProblem(uri: unknown): string | null {
  if (typeof uri !== 'string') return 'must be a string';
  if (uri.length === 0) return 'must not be empty';
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `must be at most ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(uri))
    return 'must be printable ASCII without spaces (percent-encode anything else)';
  if (uri.includes('#')) return 'must not contain a fragment';
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) return 'must be an absolute URI';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (url.username || url.password) return 'must not contain credentials';
  const host = url.hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost'))
    return 'must not use localhost: use the loopback IP literal http://127.0.0.1 or http://[::1] (RFC 8252 §8.3)';
  if (scheme === 'https') {
    if (!/^https:\/\/[^/?#@:]/i.test(uri) || !host) return 'must name a host';
    return null;
  }
  if (scheme === 'http') {
    if (LOOPBACK_HTTP.test(uri)) return null;
    return 'must use https (http only for the loopback addresses 127.0.0.1 and [::1])';
  }
  // RFC 8252 §7.1: private-use URI schemes for native apps use reverse domain names, e.g. com.example.app
  if (!scheme.includes('.'))
    return 'must use https, loopback http, or a private-use scheme in reverse-domain notation (e.g. com.example.app:/callback)';
  if (uri.length <= scheme.length + 1) return 'must have a path after the scheme';
  return null;
}

/** Problems of a whole redirect_uris list (count, duplicates, each URI), as messages naming the index. */
export function redirectUrisProblems(value: unknown): string[] {
  if (!Array.isArray(value)) return ['redirect_uris must be an array of strings'];
  if (value.length > MAX_REDIRECT_URIS)
    return [`redirect_uris must have at most ${MAX_REDIRECT_URIS} entries`];
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((uri, i) => {
    const problem = redirectUriProblem(uri);
    if (problem) problems.push(`redirect_uris[${i}] ${problem}`);
    else if (seen.has(uri as string)) problems.push(`redirect_uris[${i}] is a duplicate`);
    else seen.add(uri as string);
  });
  return problems;
}

/** client_name: 1–200 characters, not blank, no control characters. */
export function clientNameProblems(value: unknown): string[] {
  if (typeof value !== 'string') return ['client_name must be a string'];
  if (value.length === 0 || !/\S/.test(value)) return ['client_name must not be empty or blank'];
  if (value.length > MAX_CLIENT_NAME_LENGTH)
    return [`client_name must be at most ${MAX_CLIENT_NAME_LENGTH} characters`];
  if ([...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return ['client_name must not contain control characters'];
  return [];
}

/** grant_types: a non-empty array of distinct supported grant types. */
export function grantTypesProblems(value: unknown): string[] {
  const allowed = `(allowed: ${GRANT_TYPES.join(', ')})`;
  if (!Array.isArray(value) || value.length === 0)
    return [`grant_types must be a non-empty array of grant types ${allowed}`];
  const unknown = value.filter((g) => !GRANT_TYPES.includes(g as GrantType));
  if (unknown.length)
    return [
      `grant_types has unsupported values: ${unknown.map((g) => JSON.stringify(g)).join(', ')} ${allowed}`,
    ];
  if (new Set(value).size !== value.length) return ['grant_types must not repeat a grant type'];
  return [];
}

/** Problems of a scope string's syntax: space-separated RFC 6749 scope-tokens, each once. */
export function scopeSyntaxProblems(value: unknown): string[] {
  if (typeof value !== 'string') return ['scope must be a string of space-separated scopes'];
  if (value.length > MAX_SCOPE_LENGTH) return [`scope must be at most ${MAX_SCOPE_LENGTH} characters`];
  if (value === '') return [];
  const tokens = value.split(' ');
  if (tokens.some((t) => t === '')) return ['scope must separate scopes with single spaces'];
  const bad = tokens.filter((t) => !isScopeToken(t));
  if (bad.length) return [`scope has invalid characters in: ${bad.map((t) => JSON.stringify(t)).join(', ')}`];
  const dupes = tokens.filter((t, i) => tokens.indexOf(t) !== i);
  if (dupes.length) return [`scope repeats: ${[...new Set(dupes)].join(' ')}`];
  return [];
}

export function splitScope(scope: string): string[] {
  return scope.split(' ').filter(Boolean);
}

/** The registration as the rules see it (after defaults or after merging a PATCH). */
export interface ClientShape {
  redirectUris: string[];
  grantTypes: GrantType[];
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  scope: string;
}

export interface RuleContext {
  /** The configured SCOPES (built-in scopes are always known). */
  configuredScopes: readonly string[];
  /**
   * The built-in scopes the caller may hand out: its own token's scopes on the admin API;
   * 'all' for the operator (CLI).
   */
  grantableBuiltins: readonly string[] | 'all';
  /** Built-in scopes the client already had (a PATCH may keep them even if the caller lacks them). */
  previousScopes?: readonly string[];
}

/**
 * Cross-field rules (docs/admin-api.md), by field name. Empty when the client is acceptable.
 */
export function clientRuleViolations(client: ClientShape, ctx: RuleContext): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (field: string, message: string) => (out[field] ??= []).push(message);
  const grants = client.grantTypes;
  const isPublic = client.tokenEndpointAuthMethod === 'none';

  if (grants.includes('authorization_code') && client.redirectUris.length === 0)
    add('redirect_uris', 'redirect_uris is required when grant_types include authorization_code');
  if (grants.includes('refresh_token') && !grants.includes('authorization_code'))
    add('grant_types', 'grant_types: refresh_token requires authorization_code');
  if (grants.includes('client_credentials') && isPublic)
    add(
      'grant_types',
      'grant_types: client_credentials is for confidential clients only (token_endpoint_auth_method must not be none)',
    );

  const scopes = splitScope(client.scope);
  const unknown = scopes.filter(
    (s) => !BUILTIN_SCOPES.includes(s) && !OIDC_SCOPES.includes(s) && !ctx.configuredScopes.includes(s),
  );
  if (unknown.length)
    add(
      'scope',
      `scope has unknown scopes: ${unknown.join(' ')} (known: ${[...ctx.configuredScopes, ...OIDC_SCOPES, ...BUILTIN_SCOPES].join(' ')})`,
    );
  const builtins = scopes.filter((s) => BUILTIN_SCOPES.includes(s));
  if (builtins.length) {
    if (isPublic || !grants.includes('client_credentials'))
      add(
        'scope',
        `scope: the built-in scopes (${builtins.join(' ')}) are only for confidential clients with the client_credentials grant`,
      );
    const added = builtins.filter((s) => !(ctx.previousScopes ?? []).includes(s));
    const notHeld =
      ctx.grantableBuiltins === 'all'
        ? []
        : added.filter((s) => !(ctx.grantableBuiltins as readonly string[]).includes(s));
    if (notHeld.length)
      add(
        'scope',
        `scope: a client may only be given built-in scopes its creator holds (${notHeld.join(' ')})`,
      );
  }
  return out;
}
