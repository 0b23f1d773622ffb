import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { bodyOf, type HttpRequest } from '../common/http';
import { Strategy } from 'passport-local';
import type { User } from './user.entity';
import { LoginFailureReason, UsersService } from './users.service';

/** What a failed attempt tells the controller (for the audit trail only; the page shows one message). */
export interface LoginFailureInfo {
  reason: LoginFailureReason;
  subject: string | null;
}

/**
 * passport-local on the login form's `username` and `password` fields. Credentials are read from the
 * form body only (passport-local would also look in the query string: a password never belongs in a URL).
 * A failure is reported as `[false, info]` so that the controller can re-render the form with the
 * generic message instead of an exception page.
 */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly users: UsersService) {
    super({ usernameField: 'username', passwordField: 'password', passReqToCallback: true, session: false });
  }

  async validate(req: HttpRequest): Promise<User | [false, LoginFailureInfo]> {
    const body = bodyOf(req) ?? {};
    const result = await this.users.authenticate(body.username, body.password);
    if (result.ok) return result.user;
    return [false, { reason: result.reason, subject: result.subject }];
  }
}
