import { Inject, Injectable } from '@nestjs/common';
import { sha256Hex } from '../common/crypto';
import { AuditEmitter } from '../common/events';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import type { PresentedSession } from '../users/session-sql';
import { AuthorizationCodesService } from './authorization-codes.service';
import type { PendingAuthorizationRequest } from './authorization-requests.repository';
import { ConsentsRepository } from './consents.repository';
import { errorRedirect, successRedirect } from './redirects';
import { consentCovers } from './scope-descriptions';

/**
 * The decisions after a request is validated: is consent already given, record a consent, issue the code
 * and build the redirect. Every decision is audited (EVENTS.md).
 */
@Injectable()
export class AuthorizationService {
  constructor(
    private readonly codes: AuthorizationCodesService,
    private readonly consents: ConsentsRepository,
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
  async issueCode(request: PendingAuthorizationRequest, userId: string): Promise<string> {
    const code = await this.codes.issue({ ...this.codeInput(request), userId });
    return this.issued(request, userId, code);
  }

  /**
   * The hot path, in one statement: the session presented, and — unless the client asks every time — the
   * code if that user's remembered consent covers the request. Says what the browser needs next.
   */
  async issueCodeForSession(
    request: PendingAuthorizationRequest,
    session: PresentedSession,
    client: { requireConsent: boolean },
  ): Promise<{ next: 'login' } | { next: 'consent' } | { next: 'client'; location: string }> {
    const result = await this.codes.issueForSession(session, this.codeInput(request), !client.requireConsent);
    if (!result) return { next: 'login' };
    if (result.code === null) return { next: 'consent' };
    return { next: 'client', location: await this.issued(request, result.userId, result.code) };
  }

  private codeInput(request: PendingAuthorizationRequest) {
    return {
      clientId: request.clientId,
      redirectUri: request.redirectUri,
      scope: request.scope,
      codeChallenge: request.codeChallenge,
      ttlSeconds: this.oauth.authCodeTtl,
      dpopJkt: request.dpopJkt ?? null,
    };
  }

  private async issued(request: PendingAuthorizationRequest, userId: string, code: string): Promise<string> {
    await this.audit.record({
      type: 'authorization_code.issued',
      outcome: 'success',
      clientId: request.clientId,
      subject: userId,
      // the challenge's hash lets the report spot a challenge used twice; never the code itself
      details: { scope: request.scope, challenge_sha256: sha256Hex(request.codeChallenge) },
    });
    return successRedirect(request.redirectUri, code, request.state, this.oauth.issuer);
  }

  /** The user approved: remember the consent, then issue the code. */
  async approve(request: PendingAuthorizationRequest, userId: string): Promise<string> {
    await this.consents.grant(userId, request.clientId, request.scope);
    await this.audit.record({
      type: 'consent.granted',
      outcome: 'success',
      clientId: request.clientId,
      subject: userId,
      details: { scope: request.scope },
    });
    return this.issueCode(request, userId);
  }

  /** The user refused: access_denied back to the client (RFC 6749 §4.1.2.1). */
  async deny(request: PendingAuthorizationRequest, userId: string): Promise<string> {
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
