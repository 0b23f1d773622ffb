import { registerDecorator, ValidationOptions } from 'class-validator';
import { decodeCursor, isIpOrCidr, parseRfc3339 } from '../audit-query-values';

function simple(name: string, test: (value: unknown) => boolean, message: string) {
  return (options?: ValidationOptions) => (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      options: { message, ...options },
      validator: { validate: test },
    });
}

/** RFC 3339 date-time, e.g. 2025-01-31T00:00:00Z */
export const IsRfc3339 = simple(
  'isRfc3339',
  (v) => parseRfc3339(v) !== undefined,
  '$property must be an RFC 3339 date-time between the years 1970 and 9999, e.g. 2025-01-31T00:00:00Z',
);

export const IsAuditCursor = simple(
  'isAuditCursor',
  (v) => decodeCursor(v) !== undefined,
  '$property is not a cursor returned by this API',
);

export const IsIpOrCidr = simple(
  'isIpOrCidr',
  isIpOrCidr,
  '$property must be an IP address or a CIDR block (e.g. 203.0.113.7 or 10.0.0.0/8)',
);
