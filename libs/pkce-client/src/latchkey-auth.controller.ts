import {
  Controller,
  Get,
  HttpException,
  Inject,
  Post,
  Query,
  Redirect,
  Req,
  Res,
  type Type,
} from '@nestjs/common';
import { LatchkeyCallbackError } from './callback-error';
import { LATCHKEY_CLIENT_OPTIONS, type LatchkeyClientOptions } from './client.options';
import { LatchkeyClientService } from './latchkey-client.service';
import { cookieName, readCookie, sessionCookie, type RequestLike, type ResponseLike } from './session-cookie';

/**
 * The sign-in routes, at the paths of the options (a controller class is made per configuration, since Nest
 * takes route paths from decorators):
 *   GET  login?returnTo=/path → 302 to Latchkey (a session cookie is set if the browser has none)
 *   GET  callback             → 302 to returnTo with a new session cookie, or 400/403 { error, error_description }
 *   POST logout               → 302 to Latchkey's logout endpoint, session cookie cleared
 */
export function createAuthController(paths: {
  login: string;
  callback: string;
  logout: string;
}): Type<unknown> {
  @Controller()
  class LatchkeyAuthController {
    constructor(
      @Inject(LatchkeyClientService) private readonly client: LatchkeyClientService,
      @Inject(LATCHKEY_CLIENT_OPTIONS) private readonly options: LatchkeyClientOptions,
    ) {}

    @Get(paths.login)
    @Redirect()
    async login(
      @Req() req: RequestLike,
      @Res({ passthrough: true }) res: ResponseLike,
      @Query('returnTo') returnTo?: string,
    ) {
      let sessionId = readCookie(req, cookieName(this.options));
      if (!sessionId) {
        sessionId = this.client.newSessionId();
        res.header('Set-Cookie', sessionCookie(this.options, sessionId));
      }
      const url = await this.client.startSignIn(sessionId, typeof returnTo === 'string' ? returnTo : '/');
      res.header('Cache-Control', 'no-store');
      return { url: url.href, statusCode: 302 };
    }

    @Get(paths.callback)
    @Redirect()
    async callback(@Req() req: RequestLike, @Res({ passthrough: true }) res: ResponseLike) {
      res.header('Cache-Control', 'no-store');
      try {
        const url = new URL(req.originalUrl ?? req.url, this.options.redirectUri);
        const done = await this.client.completeSignIn(readCookie(req, cookieName(this.options)), url);
        res.header('Set-Cookie', sessionCookie(this.options, done.sessionId));
        return { url: done.returnTo, statusCode: 302 };
      } catch (e) {
        if (e instanceof LatchkeyCallbackError) {
          throw new HttpException({ error: e.error, error_description: e.description }, e.status);
        }
        throw e;
      }
    }

    @Post(paths.logout)
    @Redirect()
    async logout(@Req() req: RequestLike, @Res({ passthrough: true }) res: ResponseLike) {
      const url = await this.client.signOut(readCookie(req, cookieName(this.options)));
      res.header('Set-Cookie', sessionCookie(this.options, undefined));
      return { url: url.href, statusCode: 302 };
    }
  }
  return LatchkeyAuthController;
}
