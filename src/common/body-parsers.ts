import { parse as parseQueryString } from 'node:querystring';
import type { FastifyInstance } from 'fastify';

/** A request body that cannot be read: answered with its status (400, 413, 415) by the global filter. */
export class BodyError extends Error {
  constructor(
    readonly statusCode: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** At most this many parameters in a form body (more → 413). */
export const FORM_PARAMETER_LIMIT = 100;

/**
 * `application/x-www-form-urlencoded` in UTF-8 (another charset → 415): a parameter sent twice becomes an
 * array, which the protocol readers refuse (RFC 6749 §3.2). The object has no prototype.
 */
export function parseForm(body: string, charset: string | undefined): Record<string, string | string[]> {
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new BodyError(415, `unsupported charset "${charset.toUpperCase()}"`);
  if (body.length === 0) return Object.create(null) as Record<string, string | string[]>;
  let count = 1;
  for (let i = body.indexOf('&'); i !== -1; i = body.indexOf('&', i + 1)) {
    if (++count > FORM_PARAMETER_LIMIT) throw new BodyError(413, 'too many parameters');
  }
  return parseQueryString(body, '&', '=', { maxKeys: 0 }) as Record<string, string | string[]>;
}

/** The `charset` parameter of a Content-Type header, lower-cased. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType ? /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType) : null;
  return match ? match[1].toLowerCase() : undefined;
}

/**
 * The request bodies Latchkey reads, each within `limit` bytes (more → 413):
 * - JSON: an object or an array (anything else → 400); an empty body is no body; `__proto__` and
 *   `constructor.prototype` keys are refused (Fastify's secure parser);
 * - forms: see parseForm;
 * - any other media type is read (within the limit) and ignored: the handler sees no body and names the media
 *   type it wants.
 */
export function registerBodyParsers(fastify: FastifyInstance, limit: number): void {
  const secureJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: limit },
    (req, body, done) => {
      const text = (body as string).trimStart();
      if (text === '') return done(null, undefined);
      if (text[0] !== '{' && text[0] !== '[')
        return done(new BodyError(400, 'the JSON body must be an object'), undefined);
      secureJson(req, text, (err, value) =>
        err ? done(new BodyError(400, 'request body could not be parsed'), undefined) : done(null, value),
      );
    },
  );
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: limit },
    (req, body, done) => {
      try {
        done(null, parseForm(body as string, charsetOf(req.headers['content-type'])));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, _body, done) =>
    done(null, undefined),
  );
}
