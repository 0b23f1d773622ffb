import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/** helmet's settings: CSP tuned so that form posts may redirect to a client's origin; HSTS behind https. */
export function helmetOptions(secure: boolean, imageOrigins: string[] = []): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        // BRAND_LOGO_URL may live on another origin
        'img-src': ["'self'", 'data:', ...imageOrigins],
        'script-src': ["'self'"],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'frame-ancestors': ["'none'"],
        // no form-action: the consent form's POST redirects to the client's (other-origin) redirect URI
        ...(secure ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    hsts: secure,
    crossOriginResourcePolicy: false,
  };
}

/**
 * The headers helmet sets for `options`, computed once: with no nonces and no per-request directive, they are
 * the same on every response. (@fastify/helmet rebuilds helmet's middleware on every request: ~6 % of the
 * server's CPU in a profile of the flow benchmark.)
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name] = value),
    removeHeader: (name: string) => void delete headers[name],
    getHeader: () => undefined,
  };
  helmet(options)({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
  });
  return headers;
}

/** Every response, errors and redirects included, carries helmet's headers. */
export function registerSecurityHeaders(
  fastify: FastifyInstance,
  secure: boolean,
  imageOrigins: string[] = [],
): void {
  const headers = securityHeaders(helmetOptions(secure, imageOrigins));
  fastify.addHook('onRequest', (_req, reply, done) => {
    void reply.headers(headers);
    done();
  });
}
