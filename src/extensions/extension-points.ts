import type { AuditEventType } from '../events/events';
import type { ReportRule } from '../audit/rules/report-rule';
import type { AuditRowColumns } from '../audit/audit-row';

/**
 * Latchkey's extension points (docs/extending.md). A team adds behaviour by writing one Nest module of its own
 * whose providers carry one of the decorators below, and importing that module next to Latchkey's AppModule:
 * LatchkeyExtensions finds the providers at start-up (Nest's DiscoveryService). Latchkey's own modules are
 * never edited.
 */

const EXTENSION_KIND = Symbol.for('latchkey:extension-kind');
export type ExtensionKind = 'report-rule' | 'token-claims' | 'audit-sink';

function marker(kind: ExtensionKind): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(EXTENSION_KIND, kind, target);
  };
}

/** The extension kind a provider's class was marked with, if any. */
export function extensionKindOf(instance: unknown): ExtensionKind | undefined {
  const ctor = (instance as { constructor?: object } | null | undefined)?.constructor;
  return ctor ? (Reflect.getMetadata(EXTENSION_KIND, ctor) as ExtensionKind | undefined) : undefined;
}

/**
 * (a) A security-report rule of your own: a provider implementing ReportRule (the interface of the built-in
 * rules in src/audit/rules, one file per rule). Its findings appear in GET /audit/reports/security (JSON and
 * HTML) after the built-in rules'; its thresholds are set like theirs, REPORT_<NAME>_<THRESHOLD>.
 */
export const ReportRuleExtension = (): ClassDecorator => marker('report-rule');

/**
 * (b) Claims of your own in access tokens and/or id_tokens: a provider implementing TokenClaimsProvider,
 * called at every issuance. With no provider registered nothing is called (no database round trip is added).
 */
export const TokenClaimsExtension = (): ClassDecorator => marker('token-claims');

/**
 * (c) Where audit events go besides the audit trail (a SIEM): a provider implementing AuditSink, told every
 * audit event after it was emitted, off the request's path.
 */
export const AuditSinkExtension = (): ClassDecorator => marker('audit-sink');

export type { ReportRule };

/** What a token is being issued for. */
export interface TokenClaimsInput {
  token: 'access_token' | 'id_token';
  /** the grant type of the token request */
  grantType: 'authorization_code' | 'refresh_token' | 'client_credentials';
  /** the token's `sub`: the user id, or the client id for client_credentials */
  subject: string;
  /** the end user's id; null for client_credentials */
  userId: string | null;
  clientId: string;
  /** the granted scopes */
  scopes: string[];
  /** the grant the token belongs to */
  grantId: string;
}

/** The end user a token is for, as Latchkey stores it (`user()` of TokenClaimsContext). */
export interface TokenClaimsUser {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  email_verified: boolean;
}

/** What a provider is given: the token's facts, and the user, loaded only if a provider asks (one query). */
export interface TokenClaimsContext extends TokenClaimsInput {
  /** the end user (null for client_credentials); loaded on the first call, then shared by every provider */
  user(): Promise<TokenClaimsUser | null>;
}

/**
 * Returns the claims to add (JSON values), or an empty object. The standard and protocol claims (REGISTERED_CLAIMS,
 * and the profile/email claims of an id_token) are never replaced: a provider's claim of that name is dropped.
 * Several providers: merged in the order they were found, a later one winning for the same name. A provider that
 * throws fails the token request (500): tokens are never issued without the claims your APIs may rely on.
 */
export interface TokenClaimsProvider {
  claims(context: TokenClaimsContext): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/** Claims a provider can never set (RFC 7519, RFC 9068, OIDC Core, RFC 9449, and Latchkey's `gid`). */
export const REGISTERED_CLAIMS: readonly string[] = [
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'client_id',
  'scope',
  'gid',
  'cnf',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'azp',
  'sid',
  'at_hash',
  'c_hash',
];

/**
 * An audit event as a sink receives it: the stored row's fields by their column names (`occurred_at`, `type`,
 * `outcome`, `error_code`, `reason`, `client_id`, `subject`, `ip`, `user_agent`, `duration_ms`, `request_id`,
 * `details` — sanitised), never a secret.
 */
export interface AuditSinkEvent extends Omit<AuditRowColumns, 'type'> {
  type: AuditEventType;
}

/**
 * Receives every audit event (the one vocabulary: docs/audit.md). Called off the request's path: the response
 * does not wait for it and an error it throws is logged, never the request's. Refusals aggregated in the audit
 * trail (`request.rate_limited`, `api.access_denied`) arrive as their rows do, once per key and window.
 */
export interface AuditSink {
  receive(event: AuditSinkEvent): void | Promise<void>;
}
