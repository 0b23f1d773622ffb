import * as querystring from 'node:querystring';
import { PassThrough } from 'node:stream';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
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

const DECOMPRESSORS: Record<string, (() => Transform) | undefined> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/** At most this many parameters in a form body (more → 413). */
export const FORM_PARAMETER_LIMIT = 100;

/** JSON nested deeper than this is refused (400) before it is parsed: class-transformer recurses per level. */
export const JSON_DEPTH_LIMIT = 32;

/**
 * The deepest nesting of objects and arrays in a JSON text (brackets inside strings do not count). One pass,
 * no allocation; stops counting at `stopAt`. Malformed text is the parser's business: this only measures.
 */
export function jsonDepth(text: string, stopAt = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > deepest && (deepest = depth) >= stopAt) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** node:querystring's percent-decoder to bytes (public since Node 0.x, missing from @types/node). */
const unescapeBuffer = (
  querystring as unknown as { unescapeBuffer(s: string, decodeSpaces?: boolean): Buffer }
).unescapeBuffer;
const latin1 = (s: string) => unescapeBuffer(s, true).toString('latin1');

/**
 * `application/x-www-form-urlencoded` in UTF-8, or ISO-8859-1 when the Content-Type says so (as body-parser
 * accepted; Apache HttpClient's UrlEncodedFormEntity sends it by default); another charset → 415. A parameter
 * sent twice becomes an array, which the protocol readers refuse (RFC 6749 §3.2). The object has no prototype.
 */
export function parseForm(body: Buffer, charset: string | undefined): Record<string, string | string[]> {
  const isLatin1 = charset === 'iso-8859-1' || charset === 'latin1';
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && !isLatin1)
    throw new BodyError(415, `unsupported charset "${charset.toUpperCase()}"`);
  if (body.length === 0) return Object.create(null) as Record<string, string | string[]>;
  const text = body.toString(isLatin1 ? 'latin1' : 'utf8');
  let count = 1;
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    if (++count > FORM_PARAMETER_LIMIT) throw new BodyError(413, 'too many parameters');
  }
  return querystring.parse(text, '&', '=', {
    maxKeys: 0,
    ...(isLatin1 ? { decodeURIComponent: latin1 } : {}),
  }) as Record<string, string | string[]>;
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
 *   type it wants;
 * - a body sent with `Content-Encoding: gzip`, `deflate` or `br` is decompressed first, the limit applying to the
 *   decompressed bytes (another encoding → 415), as body-parser did, and to the compressed bytes too: a stream
 *   of empty deflate blocks decompresses to nothing, so only counting what arrives stops it (413 at the limit);
 * - JSON nested deeper than JSON_DEPTH_LIMIT → 400 (validation recurses per level: a deep body overflowed the
 *   stack).
 */
export function registerBodyParsers(fastify: FastifyInstance, limit: number): void {
  fastify.addHook('preParsing', (req, _reply, payload, done) => {
    const header = req.headers['content-encoding'];
    const encoding = typeof header === 'string' ? header.trim().toLowerCase() : 'identity';
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
    if (encoding === 'identity' || !hasBody) return done(null, payload);
    const decompressor = DECOMPRESSORS[encoding];
    if (!decompressor) return done(new BodyError(415, `unsupported content encoding "${encoding}"`));
    if (Number(req.headers['content-length']) > limit)
      return done(new BodyError(413, 'request body is too large'));
    const inflate = decompressor();
    // Fastify checks Content-Length against the bytes received, the limit against the bytes decompressed;
    // the compressed bytes are counted here against the same limit
    const out = Object.assign(new PassThrough(), { receivedEncodedLength: 0 });
    payload.on('data', (chunk: Buffer) => {
      out.receivedEncodedLength += chunk.length;
      if (out.receivedEncodedLength > limit && !out.destroyed) {
        payload.unpipe(inflate);
        inflate.destroy();
        out.destroy(new BodyError(413, 'request body is too large'));
      }
    });
    payload.on('error', (err) => out.destroy(err));
    inflate.on('error', () => out.destroy(new BodyError(400, 'request body could not be decompressed')));
    payload.pipe(inflate).pipe(out);
    done(null, out);
  });

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
      if (jsonDepth(text, JSON_DEPTH_LIMIT + 1) > JSON_DEPTH_LIMIT)
        return done(
          new BodyError(400, `the JSON body is nested deeper than ${JSON_DEPTH_LIMIT} levels`),
          undefined,
        );
      secureJson(req, text, (err, value) =>
        err ? done(new BodyError(400, 'request body could not be parsed'), undefined) : done(null, value),
      );
    },
  );
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer', bodyLimit: limit },
    (req, body, done) => {
      try {
        done(null, parseForm(body as Buffer, charsetOf(req.headers['content-type'])));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, _body, done) =>
    done(null, undefined),
  );
}
