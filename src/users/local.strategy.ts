import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { bodyOf, type HttpRequest } from '../http/http';
import { Strategy } from 'passport-local';
import type { User } from './user.entity';
import { normaliseIp } from '../http/request-context.hooks';
import { LoginFailureReason, UsersService } from './users.service';

/**
 * What a failed attempt tells the controller (for the audit trail only; the page shows one message).
 * `busy`: the password was not checked (the bound on password checks refused it; `retryAfter` seconds);
 * `gone`: the client disconnected before its check started.
 */
export interface LoginFailureInfo {
  reason: LoginFailureReason | 'busy' | 'gone';
  subject: string | null;
  retryAfter?: number;
}

/**
 * Whether the client of this request has gone away (closed or reset its connection): then nobody waits for
 * the verdict and a password check would be CPU spent for nothing. Node aborts the request when the client
 * closes its side (the HTTP server does not allow half-open sockets): its socket is then no longer open.
 */
export function clientGone(req: HttpRequest): boolean {
  // (not req.raw.destroyed: a request stream is destroyed as soon as its body has been read)
  const socket = req.raw.socket;
  return !socket || socket.destroyed || socket.readyState !== 'open';
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
    const result = await this.users.authenticate(body.username, body.password, {
      ip: normaliseIp(req.ip) ?? 'unknown',
      isGone: () => clientGone(req),
    });
    if (result.ok) return result.user;
    if (result.reason === 'busy')
      return [false, { reason: 'busy', subject: null, retryAfter: result.retryAfter }];
    if (result.reason === 'gone') return [false, { reason: 'gone', subject: null }];
    return [false, { reason: result.reason, subject: result.subject }];
  }
}
