/**
 * What the client keeps between the redirect to Latchkey and the callback: the PKCE verifier and the nonce,
 * bound to the browser session that started the sign-in. Never sent to the browser.
 */
export interface PendingAuthorization {
  /** SHA-256 of the browser session id that started the sign-in */
  sessionKey: string;
  codeVerifier: string;
  /** sent when the scope includes openid; the ID token must carry it back */
  nonce?: string;
  /** where to send the user after signing in (a local path) */
  returnTo: string;
  /** epoch milliseconds; the store never hands out an expired entry */
  expiresAt: number;
}

/** The tokens of one signed-in browser session. */
export interface SessionTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** epoch milliseconds when the access token expires */
  accessTokenExpiresAt: number;
  scope: string;
  /** the user (sub of the access token) */
  subject?: string;
}

/**
 * Server-side storage of the client module. Keys are SHA-256 hashes (of `state`, of the session id): neither
 * is stored in clear. Implementations: InMemoryClientStore (one instance) and PostgresClientStore (several
 * instances behind a load balancer).
 */
export interface LatchkeyClientStore {
  savePending(key: string, pending: PendingAuthorization): Promise<void>;
  /**
   * Removes and returns the entry: single-use, atomically (of two concurrent calls, one gets it). An expired
   * entry is removed and never returned.
   */
  takePending(key: string): Promise<PendingAuthorization | undefined>;
  saveSession(key: string, tokens: SessionTokens, expiresAt: number): Promise<void>;
  /** undefined when absent or expired */
  getSession(key: string): Promise<SessionTokens | undefined>;
  deleteSession(key: string): Promise<void>;
}
