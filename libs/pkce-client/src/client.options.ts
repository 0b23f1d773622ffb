import type { LatchkeyClientStore } from './client-store';

export const LATCHKEY_CLIENT_OPTIONS = Symbol('LATCHKEY_CLIENT_OPTIONS');
export const LATCHKEY_CLIENT_STORE = Symbol('LATCHKEY_CLIENT_STORE');

/** Options of LatchkeyClientModule.forRoot. */
export interface LatchkeyClientOptions {
  /** Latchkey's issuer identifier (its metadata is discovered from it) */
  issuer: string;
  clientId: string;
  /** for a confidential client (client_secret_basic); omit for a public client */
  clientSecret?: string;
  /** the registered redirect URI; its path is the callback route */
  redirectUri: string;
  /** space-separated; with `openid` an ID token is requested (with a nonce) and validated */
  scope: string;
  /** a registered post_logout_redirect_uri, where Latchkey sends the user after signing out */
  postLogoutRedirectUri?: string;
  /** default: InMemoryClientStore (one instance). Several instances: PostgresClientStore. */
  store?: LatchkeyClientStore;
  /** how long a pending sign-in (verifier, state, nonce) lives, in seconds (default 900 = 15 minutes) */
  pendingTtlSeconds?: number;
  /** how long a signed-in session lives, in seconds (default 8 hours) */
  sessionTtlSeconds?: number;
  /** the session cookie (HttpOnly, SameSite=Lax, Path=/); default name latchkey_session, Secure when redirectUri is https */
  cookie?: { name?: string; secure?: boolean };
  /**
   * the routes the module mounts: GET login (?returnTo=/path), GET callback (default: redirectUri's path),
   * POST logout. `false` mounts none (use LatchkeyClientService yourself).
   */
  routes?: { login?: string; callback?: string; logout?: string } | false;
  /** Called (awaited) for each sign-in decision and sign-out, for the team's audit trail. Never carries a secret. */
  onEvent?: (event: SignInEvent) => void | Promise<void>;
}

/**
 * A sign-in decision of the client, named like Latchkey's audit events (Latchkey's docs/audit.md): `sign_in.completed`,
 * `sign_in.rejected` (reason `state_missing`, `state_unknown` — unknown, expired or used —, `session_mismatch`,
 * `authorization_error` — the server's error response —, `invalid_response` — e.g. wrong `iss` —,
 * `exchange_failed`), `session.ended` (sign-out) and `session.refresh_failed`.
 */
export interface SignInEvent {
  type: 'sign_in.completed' | 'sign_in.rejected' | 'session.ended' | 'session.refresh_failed';
  outcome: 'success' | 'failure';
  error_code?: string;
  subject?: string;
  details: { reason?: string; description?: string };
}
