import { Controller, ForbiddenException, Get, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { bodyOf, redirect, sendHtml, type HttpReply, type HttpRequest } from '../http/http';
import type { Client } from '../clients/client';
import { ClientsService } from '../clients/clients.service';
import { CSRF_FAILURE_MESSAGE } from '../users/login.guards';
import { CsrfService } from '../users/csrf.service';
import { SessionsService } from '../users/sessions.service';
import { UsersService } from '../users/users.service';
import type { PendingAuthorizationRequest } from './authorization-requests.repository';
import { AuthorizationService } from './authorization.service';
import { PendingRequestsService, REQUEST_ID } from './pending-requests.service';
import {
  authorizationErrorPage,
  EXPIRED_REQUEST_MESSAGE,
  EXPIRED_REQUEST_TITLE,
} from './views/authorization-error.page';
import { consentPage } from './views/consent.page';

function expired(res: HttpReply): void {
  sendHtml(
    res,
    400,
    authorizationErrorPage({ title: EXPIRED_REQUEST_TITLE, message: EXPIRED_REQUEST_MESSAGE }),
  );
}

function unavailableClient(res: HttpReply): void {
  sendHtml(
    res,
    400,
    authorizationErrorPage({
      title: 'This application is not available',
      message: 'The application that sent you here is no longer registered or has been disabled.',
    }),
  );
}

/**
 * Whether a pending request still fits its client's registration: it was validated against the registration
 * of the time, and an admin may since have removed its redirect URI or taken a scope away (issue 13).
 */
function stillRegistered(client: Client, request: PendingAuthorizationRequest): boolean {
  return (
    client.redirectUris.includes(request.redirectUri) &&
    request.scope
      .split(' ')
      .filter(Boolean)
      .every((s) => client.scopes.includes(s))
  );
}

const loginPath = (requestId: string) => `/login?request=${requestId}`;
/** prompt=login / max_age: the login page, saying whose session a new sign-in replaces */
const reauthenticatePath = (requestId: string) => `/login?request=${requestId}&prompt=login`;

/** OIDC prompt=login / max_age: a session that signed in before `minAuthTime` must sign in again. */
function stale(session: { authTime: Date }, request: { minAuthTime: Date | null }): boolean {
  return request.minAuthTime !== null && session.authTime.getTime() < request.minAuthTime.getTime();
}

/**
 * The consent step of a pending authorization request (after /oauth/authorize and, if needed, /login).
 * GET shows the consent page — or, when consent is already remembered (right after a login), answers the
 * client straight away; POST records the decision (`decision=approve|deny`).
 */
@ApiExcludeController()
@Controller('consent')
export class ConsentController {
  constructor(
    private readonly pending: PendingRequestsService,
    private readonly authorization: AuthorizationService,
    private readonly clients: ClientsService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly csrf: CsrfService,
  ) {}

  @Get()
  async show(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @Query('request') requestId: unknown,
  ): Promise<void> {
    if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) return expired(res);
    const session = await this.sessions.current(req);
    if (!session) return redirect(res, loginPath(requestId));
    const request = await this.pending.find(requestId);
    if (!request) return expired(res);
    if (stale(session, request)) return redirect(res, reauthenticatePath(requestId));
    const client = await this.clients.findEnabled(request.clientId);
    if (!client) return unavailableClient(res);
    if (!stillRegistered(client, request)) return expired(res);
    const scopes = request.scope.split(' ').filter(Boolean);

    if (
      !request.forceConsent &&
      (await this.authorization.consentRemembered(session.userId, client, scopes))
    ) {
      const taken = await this.pending.take(requestId);
      if (!taken) return expired(res);
      return redirect(res, await this.authorization.issueCode(taken, session));
    }

    const user = await this.users.findById(session.userId);
    sendHtml(
      res,
      200,
      consentPage({
        clientName: client.clientName,
        username: user?.username ?? '',
        scopes,
        redirectUri: request.redirectUri,
        requestId,
        csrfToken: this.csrf.issue(req, res, 'consent', session.sessionId),
      }),
    );
  }

  @Post()
  async decide(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const body = bodyOf(req) ?? {};
    const requestId = body.request;
    if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) return expired(res);
    const session = await this.sessions.current(req);
    if (!session) return redirect(res, loginPath(requestId)); // the session ended while the page was open
    if (!this.csrf.verify(req, 'consent', session.sessionId))
      throw new ForbiddenException(CSRF_FAILURE_MESSAGE);
    const decision = body.decision;
    if (decision !== 'approve' && decision !== 'deny')
      return sendHtml(
        res,
        400,
        authorizationErrorPage({
          title: 'No decision was made',
          message: 'Choose “Allow” or “Deny” on the consent page.',
        }),
      );

    const pendingRequest = await this.pending.find(requestId);
    if (pendingRequest && stale(session, pendingRequest)) return redirect(res, reauthenticatePath(requestId));
    const request = await this.pending.take(requestId);
    if (!request) return expired(res);
    const client = await this.clients.findEnabled(request.clientId, { fresh: true });
    if (!client) return unavailableClient(res);
    if (!stillRegistered(client, request)) return expired(res);
    const location =
      decision === 'approve'
        ? await this.authorization.approve(request, session)
        : await this.authorization.deny(request, session.userId);
    redirect(res, location);
  }
}
