import * as oauth from 'oauth4webapi';
import type { LatchkeyClientOptions, SignInEvent } from './client.options';
import type { LatchkeyClientStore, SessionTokens } from './client-store';
import { decodePayload, hash } from './session-keys';

/** Refresh the access token when it expires within this many milliseconds. */
const REFRESH_MARGIN_MS = 30_000;

/** What the keeper needs of LatchkeyClientService (its configuration, the discovered server, the clock). */
export interface SessionTokensDeps {
  options: LatchkeyClientOptions;
  store: LatchkeyClientStore;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  insecure: boolean;
  metadata: () => Promise<oauth.AuthorizationServer>;
  verifyIdTokenSignature: (as: oauth.AuthorizationServer, idToken: string) => Promise<void>;
  emit: (event: SignInEvent) => Promise<void>;
  now: () => number;
}

/**
 * A browser session's tokens in the store: read, refreshed with rotation (RFC 9700 §4.14.2: one refresh at a
 * time per session, since a rotated refresh token presented twice revokes the grant), saved.
 */
export class SessionTokensKeeper {
  private readonly refreshing = new Map<string, Promise<SessionTokens | undefined>>();

  constructor(private readonly deps: SessionTokensDeps) {}

  /** The session's tokens, refreshed (rotation) when the access token is about to expire; undefined when signed out. */
  async current(sessionId: string | undefined): Promise<SessionTokens | undefined> {
    if (!sessionId) return undefined;
    const key = hash(sessionId);
    const tokens = await this.deps.store.getSession(key);
    if (!tokens) return undefined;
    if (tokens.accessTokenExpiresAt - REFRESH_MARGIN_MS > this.deps.now()) return tokens;
    if (!tokens.refreshToken) {
      await this.deps.store.deleteSession(key);
      return undefined;
    }
    // one refresh at a time per session in this process: a rotated refresh token presented twice would
    // make Latchkey revoke the whole grant
    let running = this.refreshing.get(key);
    if (!running) {
      running = this.refresh(key, tokens).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, running);
    }
    return running;
  }

  private async refresh(key: string, tokens: SessionTokens): Promise<SessionTokens | undefined> {
    const as = await this.deps.metadata();
    try {
      const response = await oauth.refreshTokenGrantRequest(
        as,
        this.deps.client,
        this.deps.auth,
        tokens.refreshToken!,
        {
          [oauth.allowInsecureRequests]: this.deps.insecure,
        },
      );
      const fresh = await oauth.processRefreshTokenResponse(as, this.deps.client, response);
      if (fresh.id_token) await this.deps.verifyIdTokenSignature(as, fresh.id_token);
      return await this.save(key, fresh, tokens);
    } catch (e) {
      if (e instanceof oauth.ResponseBodyError) {
        // invalid_grant: the grant was revoked or the refresh token expired — the session is over
        await this.deps.store.deleteSession(key);
        await this.deps.emit({
          type: 'session.refresh_failed',
          outcome: 'failure',
          error_code: e.error,
          subject: tokens.subject,
          details: { reason: 'refresh_refused' },
        });
        return undefined;
      }
      throw e;
    }
  }

  /** Stores a token response for the session (keeping what a refresh response leaves out). */
  async save(
    key: string,
    response: oauth.TokenEndpointResponse,
    previous?: SessionTokens,
  ): Promise<SessionTokens> {
    const claims = decodePayload(response.access_token);
    const tokens: SessionTokens = {
      accessToken: response.access_token,
      refreshToken: response.refresh_token ?? previous?.refreshToken,
      idToken: response.id_token ?? previous?.idToken,
      accessTokenExpiresAt: this.deps.now() + (response.expires_in ?? 300) * 1000,
      scope: response.scope ?? previous?.scope ?? this.deps.options.scope,
      subject: typeof claims.sub === 'string' ? claims.sub : previous?.subject,
    };
    await this.deps.store.saveSession(
      key,
      tokens,
      this.deps.now() + (this.deps.options.sessionTtlSeconds ?? 8 * 3600) * 1000,
    );
    return tokens;
  }
}
