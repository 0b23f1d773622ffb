import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { BodyError } from './body-parsers';
import { isDatabaseUnavailable } from '../common/database-errors';
import { errorPage } from './html';
import { routePath, sendHtml, type HttpReply, type HttpRequest } from './http';
import { DpopProofError, OAuthError, SlowDown } from '../common/oauth-errors';
import { currentRequestContext } from './request-context';

/** Routes whose errors are RFC 6749 §5.2 JSON. */
const PROTOCOL_JSON = /^\/oauth\/(token|revoke|introspect|par)\b/;
/** RFC 9449 §5.1 algorithms, as the DPoP challenge lists them. */
const DPOP_ALGS = 'ES256 EdDSA RS256 PS256';
/** Routes that are pages for people: errors render HTML, never redirect. */
const HTML_PAGES = /^\/(oauth\/authorize|login|logout|consent)\b/;

/**
 * The one global filter: never leaks internals, always names the request id.
 * - OAuthError → `{error, error_description}` with the RFC status (and WWW-Authenticate where due)
 * - HttpException → its own body (validation: the fields named) plus request_id
 * - database unreachable → 503 temporarily_unavailable with Retry-After
 * - anything else → 500 server_error, logged with its stack, nothing of it sent
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<HttpRequest>();
    const res = ctx.getResponse<HttpReply>();
    if (res.sent) return;
    const requestId = (req.requestContext ?? currentRequestContext())?.requestId ?? null;
    const path = routePath(req);
    const wantsHtml = HTML_PAGES.test(path);

    const send = (status: number, body: Record<string, unknown>, title?: string) => {
      if (PROTOCOL_JSON.test(path) || path.startsWith('/oauth/')) res.header('Cache-Control', 'no-store');
      if (wantsHtml) {
        sendHtml(
          res,
          status,
          errorPage(
            title ?? 'Something went wrong',
            String(body.error_description ?? body.message ?? ''),
            requestId,
          ),
        );
        return;
      }
      void res
        .code(status)
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ ...body, request_id: requestId }));
    };

    if (exception instanceof OAuthError) {
      if (exception.code === 'invalid_client') res.header('WWW-Authenticate', 'Basic realm="latchkey"');
      // RFC 6750 §3.1: a request without any token gets the challenge without an error code
      if (exception.code === 'invalid_token' && exception.reason === 'missing_token')
        res.header('WWW-Authenticate', 'Bearer realm="latchkey"');
      else if (exception.code === 'invalid_token' || exception.code === 'insufficient_scope')
        res.header(
          'WWW-Authenticate',
          `Bearer realm="latchkey", error="${exception.code}", error_description="${exception.description.replace(/"/g, "'")}"`,
        );
      if (exception.code === 'temporarily_unavailable') res.header('Retry-After', '5');
      if (exception instanceof DpopProofError) {
        // RFC 9449 §7.1, §8, §9: the DPoP challenge at a resource; a fresh nonce whenever one is due
        if (exception.atResource)
          res.header(
            'WWW-Authenticate',
            `DPoP realm="latchkey", error="${exception.code}", error_description="${exception.description.replace(/"/g, "'")}", algs="${DPOP_ALGS}"`,
          );
        if (exception.nonce) res.header('DPoP-Nonce', exception.nonce);
      }
      if (exception instanceof SlowDown) res.header('Retry-After', String(exception.retryAfter));
      send(
        exception.status,
        { error: exception.code, error_description: exception.description },
        'Request refused',
      );
      return;
    }

    // a request that cannot be read: a body too large, malformed JSON or form, an unsupported charset (our
    // parsers, body-parsers.ts), or refused by Fastify itself (a body over the limit, a bad Content-Length, a
    // malformed URL)
    const bodyError = bodyErrorOf(exception);
    if (bodyError) {
      const { status, description } = bodyError;
      if (PROTOCOL_JSON.test(path))
        send(status, { error: 'invalid_request', error_description: description });
      else
        send(status, {
          statusCode: status,
          error:
            status === 413 ? 'Payload Too Large' : status === 415 ? 'Unsupported Media Type' : 'Bad Request',
          message: description,
        });
      return;
    }

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const body =
        typeof response === 'string'
          ? { statusCode: status, message: response }
          : (response as Record<string, unknown>);
      if (PROTOCOL_JSON.test(path) && status < 500) {
        const message = Array.isArray(body.message)
          ? body.message.join('; ')
          : String(body.message ?? 'invalid request');
        send(status, {
          error: status === 404 ? 'invalid_request' : 'invalid_request',
          error_description: message,
        });
        return;
      }
      send(status, body, status === 404 ? 'Not found' : 'Request refused');
      return;
    }

    if (isDatabaseUnavailable(exception)) {
      this.logger.warn(`database unavailable: ${(exception as Error)?.message}`);
      res.header('Retry-After', '5');
      send(
        503,
        {
          error: 'temporarily_unavailable',
          error_description: 'the service is temporarily unavailable, retry later',
        },
        'Service unavailable',
      );
      return;
    }

    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    send(500, { error: 'server_error', error_description: 'internal server error' }, 'Something went wrong');
  }
}

/** The status and description of a request that could not be read, or undefined for any other error. */
function bodyErrorOf(exception: unknown): { status: number; description: string } | undefined {
  if (exception instanceof BodyError) return { status: exception.statusCode, description: exception.message };
  // the Fastify adapter hands Fastify's own 4xx errors over as an HttpException caused by them
  const cause = exception instanceof HttpException ? exception.cause : undefined;
  const fastifyError = cause as { code?: unknown; statusCode?: unknown };
  if (
    cause instanceof Error &&
    typeof fastifyError.code === 'string' &&
    fastifyError.code.startsWith('FST_') &&
    typeof fastifyError.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    const status = fastifyError.statusCode;
    return {
      status,
      description:
        status === 413
          ? 'request body too large'
          : fastifyError.code.startsWith('FST_ERR_CTP_')
            ? 'request body could not be parsed'
            : 'malformed request',
    };
  }
  return undefined;
}
