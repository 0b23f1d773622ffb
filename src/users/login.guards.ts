import { CanActivate, ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { bodyOf, type HttpRequest } from '../http/http';
import { AuditEmitter } from '../events/events';
import { CsrfService } from './csrf.service';
import type { LoginFailureInfo } from './local.strategy';
import type { User } from './user.entity';
import { UsersService } from './users.service';

/** Where the login guards leave their verdict for the controller. */
export interface LoginRequest extends HttpRequest {
  user?: User;
  loginFailure?: LoginFailureInfo;
}

/** Shown when a form's CSRF token is missing or wrong (HTML 403 through the global filter). */
export const CSRF_FAILURE_MESSAGE =
  'This form has expired or was not sent from this site. Go back, reload the page and try again.';

/** The login form's CSRF check runs before any credential is looked at; a failure is audited as login.failed. */
@Injectable()
export class LoginCsrfGuard implements CanActivate {
  constructor(
    private readonly csrf: CsrfService,
    private readonly users: UsersService,
    private readonly audit: AuditEmitter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<HttpRequest>();
    if (this.csrf.verify(req, 'login')) return true;
    const username = bodyOf(req)?.username;
    await this.audit.record({
      type: 'login.failed',
      outcome: 'failure',
      reason: 'csrf_failed',
      subject: await this.users.subjectFor(username),
      details: { reason: 'csrf_failed' },
    });
    throw new ForbiddenException(CSRF_FAILURE_MESSAGE);
  }
}

/** passport-local; never throws for bad credentials: the controller renders the form again. */
@Injectable()
export class LocalAuthGuard extends AuthGuard('local') {
  override handleRequest<TUser = User>(
    err: unknown,
    user: TUser | false,
    info: unknown,
    context: ExecutionContext,
  ): TUser {
    if (err) throw err; // database unavailable and the like: the global filter answers 503
    const req = context.switchToHttp().getRequest<LoginRequest>();
    if (!user) {
      const failure = info as Partial<LoginFailureInfo> | undefined;
      req.loginFailure = {
        reason: failure?.reason ?? 'invalid_credentials',
        subject: failure?.subject ?? null,
        retryAfter: failure?.retryAfter,
      };
    }
    return (user || undefined) as TUser;
  }
}
