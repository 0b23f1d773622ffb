import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AccessTokenVerifier, DPOP_ALGORITHMS } from './access-token.verifier';
import {
  LATCHKEY_RESOURCE_SERVER_OPTIONS,
  type LatchkeyResourceServerOptions,
} from './resource-server.options';
import { LATCHKEY_INTROSPECT, LATCHKEY_SCOPES } from './metadata-keys';
import { TokenError } from './token-error';

interface HttpRequestLike {
  method: string;
  url: string;
  originalUrl?: string;
  protocol?: string;
  headers: Record<string, string | string[] | undefined>;
  latchkey?: unknown;
}

/** Works with the Express and the Fastify platform: both have header(name, value). */
interface HttpResponseLike {
  header(name: string, value: string): unknown;
}

/**
 * The guard behind @Scopes(): verifies the access token (AccessTokenVerifier), checks the route's scopes and
 * answers refusals as RFC 6750 §3 / RFC 9449 §7.1 say: 401 with a WWW-Authenticate challenge (with
 * `error="invalid_token"` or `"invalid_dpop_proof"`, none when no token was sent), 403 `insufficient_scope`,
 * 400 `invalid_request`. The body is JSON `{ error, error_description }`.
 */
@Injectable()
export class LatchkeyAuthGuard implements CanActivate {
  constructor(
    @Inject(AccessTokenVerifier) private readonly verifier: AccessTokenVerifier,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(LATCHKEY_RESOURCE_SERVER_OPTIONS) private readonly options: LatchkeyResourceServerOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<HttpRequestLike>();
    const targets = [context.getHandler(), context.getClass()];
    const scopes = this.reflector.getAllAndOverride<string[] | undefined>(LATCHKEY_SCOPES, targets) ?? [];
    const introspect = this.reflector.getAllAndOverride<boolean | undefined>(LATCHKEY_INTROSPECT, targets);
    try {
      const token = await this.verifier.verify(
        {
          method: req.method,
          url: requestUrl(req),
          authorization: req.headers.authorization,
          dpop: req.headers.dpop,
        },
        { introspect: introspect === true },
      );
      const missing = scopes.filter((s) => !token.scopes.includes(s));
      if (missing.length > 0) {
        throw new TokenError(
          403,
          'insufficient_scope',
          `the access token lacks the scope ${missing.join(' ')}`,
          token.jkt ? 'DPoP' : 'Bearer',
          scopes.join(' '),
        );
      }
      req.latchkey = token;
      return true;
    } catch (e) {
      if (!(e instanceof TokenError)) throw e;
      await this.options.onAccessDenied?.({
        type: 'api.access_denied',
        outcome: 'failure',
        error_code: e.error,
        details: {
          reason: e.status === 503 ? 'issuer_unavailable' : (e.error ?? 'missing_token'),
          description: e.description,
          path: (req.originalUrl ?? req.url).split('?')[0],
          method: req.method,
        },
      });
      http.getResponse<HttpResponseLike>().header('WWW-Authenticate', this.challenge(e));
      throw new HttpException(
        e.error ? { error: e.error, error_description: e.description } : { error_description: e.description },
        e.status,
      );
    }
  }

  /** Both challenges (Bearer and DPoP) so that a client learns both schemes; the error goes to `e.scheme`'s. */
  private challenge(e: TokenError): string {
    const realm = this.options.realm ? `realm="${quote(this.options.realm)}"` : undefined;
    const params = (scheme: 'Bearer' | 'DPoP') => {
      const list: string[] = [];
      if (realm) list.push(realm);
      if (e.error && e.scheme === scheme && e.status !== 503) {
        list.push(`error="${e.error}"`, `error_description="${quote(e.description)}"`);
        if (e.scope) list.push(`scope="${quote(e.scope)}"`);
      }
      if (scheme === 'DPoP') list.push(`algs="${DPOP_ALGORITHMS.join(' ')}"`);
      return list.length ? `${scheme} ${list.join(', ')}` : scheme;
    };
    return `${params('Bearer')}, ${params('DPoP')}`;
  }
}

function quote(value: string): string {
  return value.replace(/["\\]/g, "'");
}

/** The absolute URL of the request as the client addressed it (scheme from the platform, host from Host). */
function requestUrl(req: HttpRequestLike): string {
  const host = req.headers.host ?? 'localhost';
  const protocol = req.protocol ?? 'http';
  return `${protocol}://${host}${req.originalUrl ?? req.url}`;
}
