import {
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { bodyOf, sendHtml, type HttpReply, type HttpRequest } from '../http/http';
import { AuditEmitter } from '../events/events';
import { CsrfService } from './csrf.service';
import { CSRF_FAILURE_MESSAGE, LocalAuthGuard, LoginCsrfGuard, type LoginRequest } from './login.guards';
import { SessionsService } from './sessions.service';
import { UsersService } from './users.service';
import { loginPage, signedInPage, signedOutPage } from './views/login.page';

/** Where a login that continues an authorization request goes next (the authorization module's page). */
export function continueAuthorizationPath(requestId: string): string {
  return `/consent?request=${encodeURIComponent(requestId)}`;
}

/**
 * A pending authorization request's reference as the authorization module hands it over (base64url, sealed:
 * only that module can open it). Here it is only carried through the login form, so only its shape is checked.
 */
const REQUEST_REFERENCE = /^[A-Za-z0-9_-]{40,6000}$/;

function requestIdOf(value: unknown): string | undefined {
  return typeof value === 'string' && REQUEST_REFERENCE.test(value) ? value : undefined;
}

/**
 * The end-user pages of the users module: GET/POST /login and POST /logout. The only place a login
 * returns to is the pending authorization request named by the opaque `request` id (never a URL taken
 * from the request), so there is no open redirect.
 */
@ApiExcludeController()
@Controller()
export class LoginController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly csrf: CsrfService,
    private readonly audit: AuditEmitter,
  ) {}

  @Get('login')
  async showLogin(
    @Req() req: HttpRequest,
    @Res() res: HttpReply,
    @Query('request') request?: unknown,
    @Query('prompt') prompt?: unknown,
  ) {
    const requestId = requestIdOf(request);
    const session = await this.sessions.current(req);
    if (session && requestId && prompt === 'login') {
      // OIDC prompt=login / max_age: sign in again; the page says whose session the new login replaces
      const user = await this.users.findById(session.userId);
      return sendHtml(
        res,
        200,
        loginPage({
          csrfToken: this.csrf.issue(req, res, 'login'),
          requestId,
          replacing: user?.username,
        }),
      );
    }
    if (session && requestId) return res.redirect(continueAuthorizationPath(requestId), 302);
    if (session) {
      const user = await this.users.findById(session.userId);
      if (user)
        return sendHtml(
          res,
          200,
          signedInPage({
            username: user.username,
            csrfToken: this.csrf.issue(req, res, 'logout', session.sessionId),
          }),
        );
    }
    sendHtml(res, 200, loginPage({ csrfToken: this.csrf.issue(req, res, 'login'), requestId }));
  }

  @Post('login')
  @UseGuards(LoginCsrfGuard, LocalAuthGuard)
  async login(@Req() req: LoginRequest, @Res() res: HttpReply) {
    const body = bodyOf(req) ?? {};
    const requestId = requestIdOf(body.request);
    if (req.user) {
      await this.sessions.start(req, res, req.user.id);
      await this.audit.record({ type: 'login.succeeded', outcome: 'success', subject: req.user.id });
      return res.redirect(requestId ? continueAuthorizationPath(requestId) : '/login', 302);
    }
    const failure = req.loginFailure ?? { reason: 'invalid_credentials' as const, subject: null };
    // nothing was checked: the client is gone (nobody reads an answer), or the server's bound on password
    // checks refused the attempt (audited once per window by PasswordCheckLimiter, not once per request)
    if (failure.reason === 'gone') return res.code(503).send();
    if (failure.reason === 'busy') {
      void res.header('Retry-After', String(failure.retryAfter ?? 1));
      return sendHtml(
        res,
        503,
        loginPage({ csrfToken: this.csrf.issue(req, res, 'login'), requestId, busy: true }),
      );
    }
    await this.audit.record({
      type: 'login.failed',
      outcome: 'failure',
      reason: failure.reason,
      subject: failure.subject ?? (await this.users.subjectFor(body.username)),
      details: { reason: failure.reason },
    });
    sendHtml(
      res,
      401,
      loginPage({
        csrfToken: this.csrf.issue(req, res, 'login'),
        requestId,
        username: typeof body.username === 'string' ? body.username.slice(0, 200) : '',
        failed: true,
      }),
    );
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: HttpRequest, @Res() res: HttpReply) {
    const session = await this.sessions.current(req);
    if (!this.csrf.verify(req, 'logout', session?.sessionId ?? ''))
      throw new ForbiddenException(CSRF_FAILURE_MESSAGE);
    const userId = await this.sessions.end(req, res);
    if (userId) await this.audit.record({ type: 'session.ended', outcome: 'success', subject: userId });
    sendHtml(res, 200, signedOutPage());
  }
}
