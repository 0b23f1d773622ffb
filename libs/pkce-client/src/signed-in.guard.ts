import {
  createParamDecorator,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { LATCHKEY_CLIENT_OPTIONS, type LatchkeyClientOptions } from './client.options';
import { LatchkeyClientService, type SignedInSession } from './latchkey-client.service';
import { cookieName, readCookie, type RequestLike } from './session-cookie';

/** What SignedInGuard puts on the request. */
export interface LatchkeyRequestSession extends SignedInSession {
  /** the session's current access token (refreshed when needed), for calling APIs */
  accessToken: string;
}

/**
 * For the BFF's own routes: 401 unless the browser session is signed in; the route then gets the session
 * (and a fresh access token) through @LatchkeySession().
 */
@Injectable()
export class SignedInGuard implements CanActivate {
  constructor(
    @Inject(LatchkeyClientService) private readonly client: LatchkeyClientService,
    @Inject(LATCHKEY_CLIENT_OPTIONS) private readonly options: LatchkeyClientOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context
      .switchToHttp()
      .getRequest<RequestLike & { latchkeySession?: LatchkeyRequestSession }>();
    const sessionId = readCookie(req, cookieName(this.options));
    const accessToken = await this.client.accessToken(sessionId);
    const session = accessToken ? await this.client.session(sessionId) : undefined;
    if (!accessToken || !session) throw new UnauthorizedException({ error: 'not signed in' });
    req.latchkeySession = { ...session, accessToken };
    return true;
  }
}

/** The signed-in session of the request (set by SignedInGuard). */
export const LatchkeySession = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): LatchkeyRequestSession | undefined =>
    ctx.switchToHttp().getRequest<{ latchkeySession?: LatchkeyRequestSession }>().latchkeySession,
);
