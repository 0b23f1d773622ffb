import { BadRequestException } from '@nestjs/common';
import accepts from 'accepts';
import type { HttpRequest } from '../http/http';
import type { ApiPrincipal } from '../api-auth/bearer.strategy';
import { parseRfc3339 } from './audit-query-values';

/** 400 in the ValidationPipe's shape, naming the field. */
export function badRequest(field: string, message: string): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: [message],
    fields: { [field]: [message] },
  });
}

/** from/to as dates; `to` must come after `from`. */
export function parseRange(from?: string, to?: string): { from?: Date; to?: Date } {
  const f = from === undefined ? undefined : parseRfc3339(from);
  const t = to === undefined ? undefined : parseRfc3339(to);
  if (f && t && f.getTime() > t.getTime()) throw badRequest('to', 'to must not be earlier than from');
  return { from: f, to: t };
}

/** The caller behind the bearer token (set by BearerAuthGuard). */
export function principalOf(req: HttpRequest): ApiPrincipal {
  return req.user as ApiPrincipal;
}

/** Content negotiation: the explicit `format` wins, then the Accept header (JSON unless asked otherwise). */
export function wants(req: HttpRequest, format: string | undefined, alternative: 'csv' | 'html'): boolean {
  if (format) return format === alternative;
  const type = alternative === 'csv' ? 'text/csv' : 'text/html';
  return accepts(req.raw).type(['application/json', type]) === type;
}
