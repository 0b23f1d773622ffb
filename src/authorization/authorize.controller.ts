import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { redirect, sendHtml, type HttpReply, type HttpRequest } from '../http/http';
import { AuditEmitter, type AuditEventInput } from '../events/events';
import { requestIpBucket } from '../http/request-context.hooks';
import { RefusalAuditor } from '../events/refusal-auditor';
import { abuseConfig, type AbuseConfig } from '../config/config.namespaces';
import { SessionsService } from '../users/sessions.service';
import { AuthorizationService } from './authorization.service';
import { AuthorizeRequestValidator } from './authorize-request.validator';
import { parseQueryParameters, rawQueryOf, type QueryParameters } from './checks/query-parameters';
import { PendingRequestsService } from './pending-requests.service';
import { PushedRequestsService } from './pushed-requests.service';
import { errorRedirect } from './redirects';
import {
  authorizationErrorPage,
  INVALID_REQUEST_MESSAGE,
  INVALID_REQUEST_TITLE,
} from './views/authorization-error.page';

/**
 * GET /oauth/authorize (RFC 6749 §4.1.1, OAuth 2.1, RFC 7636, RFC 9207). The hot path — a signed-in user
 * who already consented — costs one statement: session lookup, consent check and code insert together
 * (the client row usually comes from the per-instance cache, CLIENT_CACHE_TTL_MS); plus two audit events
 * (group-committed; the first written while the statement runs).
 */
/** `authorization.requested` rows of their own per client, IP and window before sign-in (see recordRequested). */
export const AUTHORIZE_AUDIT_INDIVIDUAL = 10;

@ApiExcludeController()
@Controller('oauth')
export class AuthorizeController {
  constructor(
    private readonly validator: AuthorizeRequestValidator,
    private readonly authorization: AuthorizationService,
    private readonly pending: PendingRequestsService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditEmitter,
    private readonly pushed: PushedRequestsService,
    private readonly repeatable: RefusalAuditor,
    @Inject(abuseConfig.KEY) private readonly abuse: Pick<AbuseConfig, 'rateLimitWindow'>,
  ) {}

  @Get('authorize')
  async authorize(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    let params = parseQueryParameters(rawQueryOf(req.url));
    let dpopJkt: string | null = null;
    const viaPar = params.has('request_uri');
    if (viaPar) {
      // RFC 9126 §4: only the pushed parameters count (others but client_id are ignored)
      const taken = await this.takePushed(params);
      if (!taken) {
        await this.audit.record({
          type: 'authorization.rejected',
          outcome: 'failure',
          errorCode: 'invalid_request',
          reason: 'request_uri_invalid',
          clientId: params.get('client_id')?.[0] || null,
          details: { reason: 'request_uri_invalid' },
        });
        return sendHtml(
          res,
          400,
          authorizationErrorPage({
            title: INVALID_REQUEST_TITLE,
            message: INVALID_REQUEST_MESSAGE,
            detail: 'the request_uri is unknown, expired, already used or belongs to another client',
          }),
        );
      }
      params = taken.params;
      dpopJkt = taken.dpopJkt;
    }
    const validation = await this.validator.validate(params, { pushed: viaPar });

    if (validation.kind !== 'valid') {
      const { rejection } = validation;
      await this.audit.record({
        type: 'authorization.rejected',
        outcome: 'failure',
        errorCode: rejection.error,
        reason: rejection.reason,
        clientId: validation.clientId,
        details: { reason: rejection.reason },
      });
      if (validation.kind === 'page')
        return sendHtml(
          res,
          400,
          authorizationErrorPage({
            title: INVALID_REQUEST_TITLE,
            message: INVALID_REQUEST_MESSAGE,
            detail: rejection.description,
          }),
        );
      return redirect(
        res,
        errorRedirect(
          validation.redirectUri,
          rejection.error,
          rejection.description,
          validation.state,
          this.authorization.issuer,
        ),
      );
    }

    const { client, redirectUri, scopes, state, codeChallenge, oidc } = validation.request;
    const scope = scopes.join(' ');
    const session = this.sessions.presented(req);
    const requestedEvent: AuditEventInput = {
      type: 'authorization.requested',
      outcome: 'success',
      clientId: client.clientId,
      details: { scope },
    };
    // The hot path (a session presented) writes the event in its one statement. Otherwise it is recorded while the
    // pending request is stored; either way it is committed before the response is sent.
    const hotPath = !!session && !oidc.forceLogin;
    const requested = hotPath ? Promise.resolve() : this.recordRequested(req, !session, requestedEvent);
    requested.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    const request = {
      clientId: client.clientId,
      redirectUri,
      scope,
      state,
      codeChallenge,
      dpopJkt,
      nonce: oidc.nonce,
      forceConsent: oidc.forceConsent,
    };
    // where the browser goes when the user must act: a page (through a pending request), or with
    // prompt=none an error redirect (OIDC Core §3.1.2.6)
    const page = async (next: 'login' | 'reauthenticate' | 'consent', userId?: string) => {
      if (oidc.promptNone)
        return this.authorization.refuseWithoutPrompt(
          request,
          next === 'consent' ? 'consent_required' : 'login_required',
          userId,
        );
      // prompt=login / max_age: a session that signed in before the request (or too long ago) signs in again
      const minAuthAgeSeconds = oidc.forceLogin ? 0 : oidc.maxAge;
      const id = await this.pending.create({ ...request, minAuthAgeSeconds });
      if (next === 'consent') return `/consent?request=${id}`;
      return `/login?request=${id}${next === 'reauthenticate' ? '&prompt=login' : ''}`;
    };

    let location: string;
    if (!session) location = await page('login');
    else if (oidc.forceLogin) location = await page('reauthenticate');
    else {
      const outcome = await this.authorization.issueCodeForSession(
        request,
        session,
        client,
        oidc.maxAge,
        requestedEvent,
      );
      location = outcome.next === 'client' ? outcome.location : await page(outcome.next);
    }
    await requested;
    redirect(res, location);
  }

  /**
   * `authorization.requested`: one row per request — except before sign-in (no session), the first step of
   * every login and free for anyone to repeat: there the first AUTHORIZE_AUDIT_INDIVIDUAL requests per client,
   * IP and RATE_LIMIT_WINDOW get rows of their own and the rest share one row with `details.count` (issue 20:
   * a flood of them must not turn into a flood of rows; a browser never comes close to that many).
   */
  private recordRequested(req: HttpRequest, beforeSignIn: boolean, event: AuditEventInput): Promise<unknown> {
    if (!beforeSignIn) return this.audit.record(event);
    const key = `${event.clientId}|${requestIpBucket(req)}`;
    return this.repeatable.record(key, this.abuse.rateLimitWindow * 1000, event, AUTHORIZE_AUDIT_INDIVIDUAL);
  }

  /** The pushed request named by request_uri, for the client_id sent with it (each exactly once). */
  private takePushed(params: QueryParameters) {
    const clientIds = params.get('client_id') ?? [];
    const requestUris = params.get('request_uri') ?? [];
    if (clientIds.length !== 1 || requestUris.length !== 1) return Promise.resolve(undefined);
    return this.pushed.take(clientIds[0], requestUris[0]);
  }
}
