import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { redirect, sendHtml, type HttpReply, type HttpRequest } from '../common/http';
import { AuditEmitter } from '../common/events';
import { SessionsService } from '../users/sessions.service';
import { AuthorizationService } from './authorization.service';
import { AuthorizeRequestValidator } from './authorize-request.validator';
import { parseQueryParameters, rawQueryOf } from './checks/query-parameters';
import { PendingRequestsService } from './pending-requests.service';
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
@ApiExcludeController()
@Controller('oauth')
export class AuthorizeController {
  constructor(
    private readonly validator: AuthorizeRequestValidator,
    private readonly authorization: AuthorizationService,
    private readonly pending: PendingRequestsService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditEmitter,
  ) {}

  @Get('authorize')
  async authorize(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const validation = await this.validator.validate(parseQueryParameters(rawQueryOf(req.url)));

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
    // recorded while the consent lookup and the code insert run; committed before the response is sent
    const requested = this.audit.record({
      type: 'authorization.requested',
      outcome: 'success',
      clientId: client.clientId,
      details: { scope },
    });
    requested.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    const request = {
      clientId: client.clientId,
      redirectUri,
      scope,
      state,
      codeChallenge,
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

    const session = this.sessions.presented(req);
    let location: string;
    if (!session) location = await page('login');
    else if (oidc.forceLogin) location = await page('reauthenticate');
    else {
      const outcome = await this.authorization.issueCodeForSession(request, session, client, oidc.maxAge);
      location = outcome.next === 'client' ? outcome.location : await page(outcome.next);
    }
    await requested;
    redirect(res, location);
  }
}
