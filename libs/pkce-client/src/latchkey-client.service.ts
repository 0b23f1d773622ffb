import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import * as oauth from 'oauth4webapi';
import { LatchkeyCallbackError } from './callback-error';
import {
  LATCHKEY_CLIENT_OPTIONS,
  LATCHKEY_CLIENT_STORE,
  type LatchkeyClientOptions,
  type SignInEvent,
} from './client.options';
import type { LatchkeyClientStore } from './client-store';
import { callbackProblem, codeOf, hash, safeReturnTo } from './session-keys';
import { SessionTokensKeeper } from './session-tokens';

export { hash, safeReturnTo } from './session-keys';

/** What a signed-in session looks like to the application (never the refresh token). */
export interface SignedInSession {
  subject?: string;
  scope: string;
  accessTokenExpiresAt: number;
}

/**
 * The PKCE web client (backend-for-frontend): builds the authorization URL, keeps verifier, state and nonce
 * server-side bound to the browser session, validates the callback, exchanges the code, keeps and refreshes
 * the tokens per session and signs out through Latchkey. Protocol work is oauth4webapi's.
 *
 * Session ids are 256-bit random values carried in an HttpOnly cookie; the store sees only their SHA-256.
 */
@Injectable()
export class LatchkeyClientService {
  private server?: Promise<oauth.AuthorizationServer>;
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private readonly client: oauth.Client;
  private readonly auth: oauth.ClientAuth;
  private readonly insecure: boolean;
  private readonly sessions: SessionTokensKeeper;
  /** the clock (replaceable in tests) */
  now: () => number = Date.now;

  constructor(
    @Inject(LATCHKEY_CLIENT_OPTIONS) private readonly options: LatchkeyClientOptions,
    @Inject(LATCHKEY_CLIENT_STORE) private readonly store: LatchkeyClientStore,
  ) {
    if (!options.issuer || !options.clientId || !options.redirectUri || !options.scope) {
      throw new Error('LatchkeyClientModule: issuer, clientId, redirectUri and scope are required');
    }
    new URL(options.redirectUri);
    this.client = { client_id: options.clientId, id_token_signed_response_alg: 'ES256' };
    this.auth = options.clientSecret ? oauth.ClientSecretBasic(options.clientSecret) : oauth.None();
    this.insecure = new URL(options.issuer).protocol === 'http:';
    this.sessions = new SessionTokensKeeper({
      options,
      store,
      client: this.client,
      auth: this.auth,
      insecure: this.insecure,
      metadata: () => this.metadata(),
      verifyIdTokenSignature: (as, idToken) => this.verifyIdTokenSignature(as, idToken),
      emit: (event) => this.emit(event),
      now: () => this.now(),
    });
  }

  private get openid(): boolean {
    return this.options.scope.split(' ').includes('openid');
  }

  /** Discovered metadata (RFC 8414, or OpenID Discovery when the scope has openid); retried after a failure. */
  metadata(): Promise<oauth.AuthorizationServer> {
    if (!this.server) {
      const issuer = new URL(this.options.issuer);
      this.server = oauth
        .discoveryRequest(issuer, {
          algorithm: this.openid ? 'oidc' : 'oauth2',
          [oauth.allowInsecureRequests]: this.insecure,
        })
        .then((res) => oauth.processDiscoveryResponse(issuer, res));
      this.server.catch(() => (this.server = undefined));
    }
    return this.server;
  }

  /** A new random session id (256 bits, base64url) for a browser that has none. */
  newSessionId(): string {
    return oauth.generateRandomState();
  }

  /**
   * Starts a sign-in for the browser session `sessionId`: a 256-bit verifier and its S256 challenge, a
   * `state`, and a `nonce` when the scope has openid, stored server-side for 15 minutes. Returns the URL to
   * send the browser to. `returnTo` (a local path) is where the callback sends the user afterwards.
   */
  async startSignIn(sessionId: string, returnTo = '/'): Promise<URL> {
    const as = await this.metadata();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = this.openid ? oauth.generateRandomNonce() : undefined;
    await this.store.savePending(hash(state), {
      sessionKey: hash(sessionId),
      codeVerifier,
      nonce,
      returnTo: safeReturnTo(returnTo),
      expiresAt: this.now() + (this.options.pendingTtlSeconds ?? 900) * 1000,
    });
    const url = new URL(as.authorization_endpoint!);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', this.options.clientId);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('scope', this.options.scope);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('state', state);
    if (nonce) url.searchParams.set('nonce', nonce);
    return url;
  }

  /**
   * Completes a sign-in from the callback URL: the pending sign-in is taken by `state` (single-use), must
   * belong to this browser session and be unexpired; then `iss` (RFC 9207) and error responses are checked,
   * the code is exchanged with the verifier and, with openid, the ID token validated (signature, iss, aud,
   * exp, nonce). The tokens are stored under a NEW session id (no session fixation), which is returned.
   */
  async completeSignIn(
    sessionId: string | undefined,
    callbackUrl: URL,
  ): Promise<{ sessionId: string; returnTo: string }> {
    try {
      const done = await this.callback(sessionId, callbackUrl);
      await this.emit({
        type: 'sign_in.completed',
        outcome: 'success',
        subject: done.subject,
        details: {},
      });
      return { sessionId: done.sessionId, returnTo: done.returnTo };
    } catch (e) {
      if (e instanceof LatchkeyCallbackError) {
        await this.emit({
          type: 'sign_in.rejected',
          outcome: 'failure',
          error_code: e.error,
          details: { reason: e.reason, description: e.description },
        });
      }
      throw e;
    }
  }

  private async callback(
    sessionId: string | undefined,
    callbackUrl: URL,
  ): Promise<{ sessionId: string; returnTo: string; subject?: string }> {
    const state = callbackUrl.searchParams.get('state');
    if (!state)
      throw new LatchkeyCallbackError('invalid_request', 'the callback has no state', 'state_missing');
    if (callbackUrl.searchParams.getAll('state').length > 1) {
      throw new LatchkeyCallbackError(
        'invalid_request',
        'the callback has more than one state',
        'state_missing',
      );
    }
    const pending = await this.store.takePending(hash(state));
    if (!pending || pending.expiresAt <= this.now()) {
      throw new LatchkeyCallbackError(
        'invalid_request',
        'unknown, expired or already used state',
        'state_unknown',
      );
    }
    if (!sessionId || pending.sessionKey !== hash(sessionId)) {
      throw new LatchkeyCallbackError(
        'invalid_request',
        'the sign-in was started in another browser session',
        'session_mismatch',
      );
    }
    const as = await this.metadata();
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(as, this.client, callbackUrl, state);
    } catch (e) {
      if (e instanceof oauth.AuthorizationResponseError) {
        throw new LatchkeyCallbackError(
          e.error,
          e.error_description ?? 'the authorization server refused the request',
          'authorization_error',
          e.error === 'access_denied' ? 403 : 400,
        );
      }
      throw new LatchkeyCallbackError('invalid_request', callbackProblem(e), 'invalid_response');
    }
    let tokens: oauth.TokenEndpointResponse;
    try {
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        this.client,
        this.auth,
        params,
        this.options.redirectUri,
        pending.codeVerifier,
        { [oauth.allowInsecureRequests]: this.insecure },
      );
      tokens = await oauth.processAuthorizationCodeResponse(as, this.client, response, {
        expectedNonce: pending.nonce ?? oauth.expectNoNonce,
        requireIdToken: this.openid,
      });
      if (tokens.id_token) await this.verifyIdTokenSignature(as, tokens.id_token);
    } catch (e) {
      if (e instanceof oauth.ResponseBodyError) {
        throw new LatchkeyCallbackError(
          e.error,
          e.error_description ?? 'the code exchange failed',
          'exchange_failed',
        );
      }
      throw new LatchkeyCallbackError(
        'invalid_grant',
        `the code exchange failed (${codeOf(e)})`,
        'exchange_failed',
      );
    }
    const newSessionId = this.newSessionId();
    const saved = await this.sessions.save(hash(newSessionId), tokens);
    return { sessionId: newSessionId, returnTo: pending.returnTo, subject: saved.subject };
  }

  /** The session's access token, refreshed (rotation) when it is about to expire; undefined when signed out. */
  async accessToken(sessionId: string | undefined): Promise<string | undefined> {
    return (await this.sessions.current(sessionId))?.accessToken;
  }

  /** Who is signed in in this browser session, or undefined. */
  async session(sessionId: string | undefined): Promise<SignedInSession | undefined> {
    const tokens = await this.sessions.current(sessionId);
    return (
      tokens && {
        subject: tokens.subject,
        scope: tokens.scope,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      }
    );
  }

  /**
   * Signs the session out: its tokens are forgotten here, the refresh token is revoked at Latchkey (RFC 7009,
   * best effort), and the returned URL is Latchkey's logout endpoint (id_token_hint, client_id,
   * post_logout_redirect_uri), where the browser must go to end the Latchkey session too.
   */
  async signOut(sessionId: string | undefined): Promise<URL> {
    const as = await this.metadata();
    const key = sessionId ? hash(sessionId) : undefined;
    const tokens = key ? await this.store.getSession(key) : undefined;
    if (key) await this.store.deleteSession(key);
    if (tokens) {
      await this.emit({ type: 'session.ended', outcome: 'success', subject: tokens.subject, details: {} });
    }
    if (tokens?.refreshToken && as.revocation_endpoint) {
      await oauth
        .revocationRequest(as, this.client, this.auth, tokens.refreshToken, {
          additionalParameters: { token_type_hint: 'refresh_token' },
          [oauth.allowInsecureRequests]: this.insecure,
        })
        .then((res) => oauth.processRevocationResponse(res))
        .catch(() => undefined);
    }
    const url = new URL(as.end_session_endpoint ?? `${this.options.issuer.replace(/\/$/, '')}/oauth/logout`);
    url.searchParams.set('client_id', this.options.clientId);
    if (tokens?.idToken) url.searchParams.set('id_token_hint', tokens.idToken);
    if (this.options.postLogoutRedirectUri) {
      url.searchParams.set('post_logout_redirect_uri', this.options.postLogoutRedirectUri);
    }
    return url;
  }

  private async emit(event: SignInEvent): Promise<void> {
    await this.options.onEvent?.(event);
  }

  /** oauth4webapi checks the ID token's claims; its signature is checked here against the JWKS (ES256). */
  private async verifyIdTokenSignature(as: oauth.AuthorizationServer, idToken: string): Promise<void> {
    this.jwks ??= createRemoteJWKSet(new URL(as.jwks_uri!));
    await jwtVerify(idToken, this.jwks, {
      issuer: as.issuer,
      audience: this.options.clientId,
      algorithms: ['ES256'],
    });
  }
}
