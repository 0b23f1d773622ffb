import { Inject, Injectable } from '@nestjs/common';
import { sha256Hex } from '../common/crypto';
import { AuditEmitter, type AuditEventInput } from '../events/events';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import type { PresentedSession } from '../users/session-sql';
import { AuthorizationCodesService } from './authorization-codes.service';
import type { PendingAuthorizationRequest } from './authorization-requests.repository';

/** The signed-in user a code is issued to, with what the id_token needs of the session. */
export interface AuthenticatedUser {
  userId: string;
  /** when the user signed in (OIDC auth_time) */
  authTime: Date;
  /** the OIDC session id */
  sid: string;
}

/** A validated request as the code issuance needs it (the pending request without its freshness rule). */
export type CodeRequest = Omit<PendingAuthorizationRequest, 'minAuthTime'>;

/** OIDC Core §3.1.2.6: the answers to prompt=none when a page would be needed. */
export type NoPromptError = 'login_required' | 'consent_required';
import { ConsentsService } from '../users/consents.service';
import { errorRedirect, successRedirect } from './redirects';
import { consentCovers } from './scope-descriptions';

/**
 * The decisions after a request is validated: is consent already given, record a consent, issue the code
 * and build the redirect. Every decision is audited (docs/audit.md).
 */
@Injectable()
export class AuthorizationService {
  constructor(
    private readonly codes: AuthorizationCodesService,
    private readonly consents: ConsentsService,
    private readonly audit: AuditEmitter,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  get issuer(): string {
    return this.oauth.issuer;
  }

  /** True when the user consented to this client for (a superset of) these scopes, and the client allows reuse. */
  async consentRemembered(
    userId: string,
    client: { clientId: string; requireConsent: boolean },
    scopes: readonly string[],
  ): Promise<boolean> {
    if (client.requireConsent) return false; // asks every time
    return consentCovers(await this.consents.findScope(userId, client.clientId), scopes);
  }

  /** Issues a single-use code bound to client, redirect URI, scopes, user and challenge; returns the redirect. */
  async issueCode(request: CodeRequest, user: AuthenticatedUser): Promise<string> {
    const code = await this.codes.issue({
      ...this.codeInput(request),
      userId: user.userId,
      authTime: user.authTime,
      sid: user.sid,
    });
    return this.issued(request, user.userId, code);
  }

  /**
   * The hot path, in one statement: the session presented, and — unless the client asks every time — the
   * code if that user's remembered consent covers the request. Says what the browser needs next. The statement
   * also writes the request's `requested` event and, with the code, `authorization_code.issued` (staged: one
   * commit for the request).
   */
  async issueCodeForSession(
    request: CodeRequest,
    session: PresentedSession,
    client: { requireConsent: boolean },
    maxAgeSeconds: number | null,
    requestedEvent: AuditEventInput,
  ): Promise<
    | { next: 'login' }
    | { next: 'reauthenticate' }
    | { next: 'consent' }
    | { next: 'client'; location: string }
  > {
    const requested = await this.audit.stage(requestedEvent);
    const issued = await this.audit.stage(this.issuedEvent(request, null));
    const result = await this.codes
      .issueForSession(
        session,
        { ...this.codeInput(request), maxAgeSeconds },
        !client.requireConsent && !request.forceConsent,
        { requested: requested.row, issued: issued.row },
      )
      .catch((err: unknown) => {
        // the statement rolled back: neither event was written
        issued.discard();
        requested.discard();
        throw err;
      });
    await this.audit.recordStaged(requested);
    if (!result?.code) issued.discard();
    if (!result) return { next: 'login' };
    if (!result.fresh) return { next: 'reauthenticate' }; // max_age: signed in too long ago
    if (result.code === null) return { next: 'consent' };
    await this.audit.recordStaged(issued, { subject: result.userId });
    return {
      next: 'client',
      location: successRedirect(request.redirectUri, result.code, request.state, this.oauth.issuer),
    };
  }

  private codeInput(request: CodeRequest) {
    return {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      scope: request.scope,
      codeChallenge: request.codeChallenge,
      ttlSeconds: this.oauth.authCodeTtl,
      nonce: request.nonce,
      dpopJkt: request.dpopJkt ?? null,
    };
  }

  /**
   * prompt=none when the user would have to sign in (`login_required`) or consent (`consent_required`):
   * an error redirect, never a page (OIDC Core §3.1.2.6). Audited as authorization.rejected with that
   * reason (the prompt_none_probing report rule counts `login_required`).
   */
  async refuseWithoutPrompt(request: CodeRequest, error: NoPromptError, userId?: string): Promise<string> {
    const description =
      error === 'login_required' ? 'the user is not signed in' : 'the user has not consented to this client';
    await this.audit.record({
      type: 'authorization.rejected',
      outcome: 'failure',
      errorCode: error,
      reason: error,
      clientId: request.clientId,
      subject: userId ?? null,
      details: { reason: error, prompt: 'none' },
    });
    return errorRedirect(request.redirectUri, error, description, request.state, this.oauth.issuer);
  }

  private async issued(request: CodeRequest, userId: string, code: string): Promise<string> {
    await this.audit.record(this.issuedEvent(request, userId));
    return successRedirect(request.redirectUri, code, request.state, this.oauth.issuer);
  }

  private issuedEvent(request: CodeRequest, userId: string | null): AuditEventInput {
    return {
      type: 'authorization_code.issued',
      outcome: 'success',
      clientId: request.clientId,
      subject: userId,
      // the challenge's hash lets the report spot a challenge used twice; never the code itself
      details: { scope: request.scope, challenge_sha256: sha256Hex(request.codeChallenge) },
    };
  }

  /** The user approved: remember the consent, then issue the code. */
  async approve(request: CodeRequest, user: AuthenticatedUser): Promise<string> {
    await this.consents.grant(user.userId, request.clientId, request.scope);
    await this.audit.record({
      type: 'consent.granted',
      outcome: 'success',
      clientId: request.clientId,
      subject: user.userId,
      details: { scope: request.scope },
    });
    return this.issueCode(request, user);
  }

  /** The user refused: access_denied back to the client (RFC 6749 §4.1.2.1). */
  async deny(request: CodeRequest, userId: string): Promise<string> {
    await this.audit.record({
      type: 'consent.denied',
      outcome: 'failure',
      errorCode: 'access_denied',
      reason: 'access_denied',
      clientId: request.clientId,
      subject: userId,
      details: { scope: request.scope, reason: 'access_denied' },
    });
    return errorRedirect(
      request.redirectUri,
      'access_denied',
      'the user denied the request',
      request.state,
      this.oauth.issuer,
    );
  }
}
