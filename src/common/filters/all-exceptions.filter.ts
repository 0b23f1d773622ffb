import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isDatabaseUnavailable } from '../database-errors';
import { errorPage } from '../html';
import { OAuthError } from '../oauth-errors';
import { currentRequestContext } from '../request-context';

/** Routes whose errors are RFC 6749 §5.2 JSON. */
const PROTOCOL_JSON = /^\/oauth\/(token|revoke|introspect)\b/;
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
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    if (res.headersSent) return;
    const requestId = currentRequestContext()?.requestId ?? (req as any).id ?? null;
    const path = req.path ?? req.url ?? '';
    const wantsHtml = HTML_PAGES.test(path);

    const send = (status: number, body: Record<string, unknown>, title?: string) => {
      if (PROTOCOL_JSON.test(path) || path.startsWith('/oauth/')) res.setHeader('Cache-Control', 'no-store');
      if (wantsHtml) {
        res
          .status(status)
          .type('html')
          .send(
            errorPage(
              title ?? 'Something went wrong',
              String(body.error_description ?? body.message ?? ''),
              requestId,
            ),
          );
        return;
      }
      res.status(status).json({ ...body, request_id: requestId });
    };

    if (exception instanceof OAuthError) {
      if (exception.code === 'invalid_client') res.setHeader('WWW-Authenticate', 'Basic realm="latchkey"');
      if (exception.code === 'invalid_token' || exception.code === 'insufficient_scope')
        res.setHeader(
          'WWW-Authenticate',
          `Bearer realm="latchkey", error="${exception.code}", error_description="${exception.description.replace(/"/g, "'")}"`,
        );
      if (exception.code === 'temporarily_unavailable') res.setHeader('Retry-After', '5');
      send(
        exception.status,
        { error: exception.code, error_description: exception.description },
        'Request refused',
      );
      return;
    }

    // body-parser errors (too large, malformed JSON/form, bad charset) carry status + type
    const bodyError = exception as { status?: number; type?: string; message?: string };
    if (!(exception instanceof HttpException) && typeof bodyError?.type === 'string' && bodyError.status) {
      const status = bodyError.status;
      const description =
        bodyError.type === 'entity.too.large' ? 'request body too large' : 'request body could not be parsed';
      if (PROTOCOL_JSON.test(path))
        send(status, { error: 'invalid_request', error_description: description });
      else
        send(status, {
          statusCode: status,
          error: status === 413 ? 'Payload Too Large' : 'Bad Request',
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
      res.setHeader('Retry-After', '5');
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
