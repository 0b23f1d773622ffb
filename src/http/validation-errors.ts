import { BadRequestException } from '@nestjs/common';
import type { ValidationError } from 'class-validator';

/**
 * A 400 in the shape of the global ValidationPipe's (src/bootstrap.ts): `{statusCode, error, message[], fields}`,
 * so that cross-field and cursor errors read like any other validation error.
 */
export function invalidFields(fields: Record<string, string[]>): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: Object.values(fields).flat(),
    fields,
  });
}

/** class-validator errors as `{ field: [messages] }`. */
export function fieldsOf(errors: ValidationError[], prefix = ''): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of errors) {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints) out[path] = Object.values(e.constraints);
    if (e.children?.length) Object.assign(out, fieldsOf(e.children, path));
  }
  return out;
}
