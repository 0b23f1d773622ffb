import { Controller, ForbiddenException, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { clientRedirect } from '../authorization/redirects';
import { ClientsService, type AuthenticatableClient } from '../clients/clients.service';
import { bodyOf, redirect, sendHtml, type HttpReply, type HttpRequest } from '../http/http';
import { AuditEmitter } from '../events/events';
import { CsrfService } from '../users/csrf.service';
import { CSRF_FAILURE_MESSAGE } from '../users/login.guards';
import { SessionsService } from '../users/sessions.service';
import { UsersService } from '../users/users.service';
import { IdTokenHintVerifier, type IdTokenHint } from './id-token-hint.verifier';
import { confirmLogoutPage, invalidLogoutPage, loggedOutPage, type LogoutFormFields } from './logout.page';

/** A logout request after its checks: where to go afterwards (if anywhere) and what backs it. */
interface CheckedLogout {
  hint: IdTokenHint | null;
  client: AuthenticatableClient | null;
  /** the registered post_logout_redirect_uri to return to, with state; null → the signed-out page */
  location: string | null;
  /** why a post_logout_redirect_uri that was sent is not honoured */
  redirectRefusal: string | null;
  fields: LogoutFormFields;
}

interface Refusal {
  clientId: string | null;
  reason: string;
  message: string;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * RP-Initiated Logout 1.0 at /oauth/logout. The browser's session ends on the server and its cookies are
 * cleared. `post_logout_redirect_uri` is honoured only when it equals one of the client's registered
 * `post_logout_redirect_uris` exactly and the client is known (from a valid `id_token_hint`, or
 * `client_id`); otherwise the user sees the signed-out page. A logout without a valid hint for the
 * signed-in user is confirmed by the user first (a CSRF-protected form), so that a third-party page cannot
 * sign users out. An invalid hint (foreign or altered signature, another issuer) is refused: 400 page.
 */
@ApiExcludeController()
@Controller('oauth/logout')
export class LogoutController {
  constructor(
    private readonly hints: IdTokenHintVerifier,
    private readonly clients: ClientsService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly csrf: CsrfService,
    private readonly audit: AuditEmitter,
  ) {}

  @Get()
  async start(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const query = (req.query ?? {}) as Record<string, unknown>;
    const checked = await this.check(query, text(query.id_token_hint));
    if ('refused' in checked) return this.refuse(res, checked.refused);
    const session = await this.sessions.current(req);
    const backed = checked.hint !== null && (!session || session.userId === checked.hint.sub);
    if (session && !backed) {
      const user = await this.users.findById(session.userId);
      return sendHtml(
        res,
        200,
        confirmLogoutPage({
          csrfToken: this.csrf.issue(req, res, 'logout', session.sessionId),
          username: user?.username ?? '',
          clientName: checked.client?.clientName,
          fields: checked.fields,
        }),
      );
    }
    return this.finish(req, res, checked);
  }

  @Post()
  @HttpCode(200)
  async confirm(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const body = bodyOf(req) ?? {};
    const session = await this.sessions.current(req);
    if (session && !this.csrf.verify(req, 'logout', session.sessionId))
      throw new ForbiddenException(CSRF_FAILURE_MESSAGE);
    // the form carries no hint: the user's confirmation replaces it
    const checked = await this.check(body, undefined);
    if ('refused' in checked) return this.refuse(res, checked.refused);
    return this.finish(req, res, checked);
  }

  /** The checks shared by GET and the confirmation's POST. */
  private async check(
    params: Record<string, unknown>,
    hintText: string | undefined,
  ): Promise<CheckedLogout | { refused: Refusal }> {
    const clientId = text(params.client_id);
    const uri = text(params.post_logout_redirect_uri);
    const state = text(params.state);
    let hint: IdTokenHint | null = null;
    if (hintText !== undefined) {
      hint = await this.hints.verify(hintText);
      if (!hint)
        return {
          refused: {
            clientId: clientId ?? null,
            reason: 'id_token_hint_invalid',
            message: 'The id_token_hint is not an ID token issued by this server.',
          },
        };
      if (clientId !== undefined && clientId !== hint.clientId)
        return {
          refused: {
            clientId,
            reason: 'client_mismatch',
            message: 'The client_id does not match the id_token_hint.',
          },
        };
    }
    const client = await this.clients.findEnabled(hint?.clientId ?? clientId ?? '');
    let location: string | null = null;
    let redirectRefusal: string | null = null;
    if (uri !== undefined) {
      if (!client) redirectRefusal = 'unknown_client';
      else if (!client.postLogoutRedirectUris.includes(uri))
        redirectRefusal = 'post_logout_redirect_uri_not_registered';
      else location = state === undefined ? uri : clientRedirect(uri, { state });
    }
    const checked: CheckedLogout = {
      hint,
      client,
      location,
      redirectRefusal,
      fields: {
        client_id: client?.clientId,
        post_logout_redirect_uri: location !== null ? uri : undefined,
        state: location !== null ? state : undefined,
      },
    };
    return checked;
  }

  /** An invalid logout request: nothing happens (the session stays), 400 page, audited. */
  private async refuse(res: HttpReply, refusal: Refusal): Promise<void> {
    await this.audit.record({
      type: 'logout.refused',
      outcome: 'failure',
      errorCode: 'invalid_request',
      reason: refusal.reason,
      clientId: refusal.clientId,
      details: { reason: refusal.reason },
    });
    sendHtml(res, 400, invalidLogoutPage(refusal.message));
  }

  private async finish(req: HttpRequest, res: HttpReply, checked: CheckedLogout): Promise<void> {
    const userId = await this.sessions.end(req, res);
    this.csrf.clear(res);
    await this.audit.record({
      type: 'logout.completed',
      outcome: 'success',
      clientId: checked.client?.clientId ?? null,
      subject: userId ?? null,
      details: {
        session_ended: userId !== undefined,
        id_token_hint: checked.hint !== null,
        redirected: checked.location !== null,
        ...(checked.redirectRefusal ? { redirect_refused: checked.redirectRefusal } : {}),
      },
    });
    if (checked.location !== null) return redirect(res, checked.location);
    sendHtml(res, 200, loggedOutPage());
  }
}
