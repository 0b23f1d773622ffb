import type { OpenAPIObject } from '@nestjs/swagger';

type Paths = OpenAPIObject['paths'];
type Schema = Record<string, unknown>;

const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });

/** RFC 6749 §5.2 error body, as every protocol endpoint sends it. */
const OAUTH_ERROR: Schema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: str('RFC 6749 §5.2 error code', {
      enum: [
        'invalid_request',
        'invalid_client',
        'invalid_grant',
        'unauthorized_client',
        'unsupported_grant_type',
        'invalid_scope',
        'temporarily_unavailable',
      ],
    }),
    error_description: str('for developers, never for end users'),
  },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: OAUTH_ERROR } },
});

/** The common protocol responses: 400, 401 invalid_client (with WWW-Authenticate: Basic), 413, 429, 503. */
const PROTOCOL_ERRORS = {
  '400': errorResponse(
    'invalid_request, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope',
  ),
  '401': {
    ...errorResponse(
      'invalid_client: unknown client, wrong secret or another method than the registered one',
    ),
    headers: { 'WWW-Authenticate': { schema: { type: 'string', example: 'Basic realm="latchkey"' } } },
  },
  '413': errorResponse('the body is over BODY_LIMIT'),
  '415': errorResponse('not application/x-www-form-urlencoded'),
  '429': {
    ...errorResponse('rate limited (RATE_LIMIT_TOKEN per window, per IP and per authenticated client)'),
    headers: { 'Retry-After': { schema: { type: 'integer' } } },
  },
  '503': errorResponse('temporarily_unavailable: the database does not answer (with Retry-After)'),
};

const CLIENT_AUTH = {
  client_id: str('public clients and client_secret_post; with client_secret_basic the Basic user'),
  client_secret: str('client_secret_post only'),
};

const form = (required: string[], properties: Record<string, Schema>) => ({
  required: true,
  content: {
    'application/x-www-form-urlencoded': { schema: { type: 'object', required, properties } },
  },
});

/** Confidential clients may authenticate with HTTP Basic (RFC 6749 §2.3.1) instead of client_secret. */
const CLIENT_SECURITY: Array<Record<string, string[]>> = [{}, { client_secret_basic: [] }];

const TOKEN_RESPONSE: Schema = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in', 'scope'],
  properties: {
    access_token: str('RFC 9068 JWT (typ at+jwt, ES256)'),
    token_type: str('Bearer'),
    expires_in: { type: 'integer', description: 'seconds (ACCESS_TOKEN_TTL)' },
    refresh_token: str('when the client has the refresh_token grant; rotated on every use'),
    scope: str('the granted scopes, space-separated'),
  },
};

const QUERY = (name: string, description: string, required = false, schema: Schema = { type: 'string' }) => ({
  name,
  in: 'query' as const,
  required,
  description,
  schema,
});

/**
 * The OAuth endpoints and health, written out for OpenAPI: their parameters are form fields and query strings
 * validated by guards (RFC order, RFC error codes), not DTOs the Swagger plugin could read. Merged into the
 * document by openapi.ts; a test checks every route of the running app is in the document.
 */
export const PROTOCOL_PATHS: Paths = {
  '/oauth/authorize': {
    get: {
      tags: ['oauth'],
      summary: 'Authorization endpoint (RFC 6749 §4.1, PKCE S256 required for every client)',
      description:
        'Validated completely before any page: client_id and redirect_uri problems answer a 400 HTML page (never a ' +
        'redirect); every later problem redirects to redirect_uri with error, error_description, state and iss. ' +
        'Otherwise the login page, then consent, then 302 to redirect_uri?code=…&state=…&iss=….',
      parameters: [
        QUERY('response_type', 'must be code', true, { type: 'string', enum: ['code'] }),
        QUERY('client_id', 'a registered, enabled client', true),
        QUERY('redirect_uri', 'exactly a registered redirect URI (loopback: any port)', true),
        QUERY('code_challenge', 'BASE64URL(SHA256(code_verifier)), 43 characters', true, {
          type: 'string',
          pattern: '^[A-Za-z0-9_-]{43}$',
        }),
        QUERY('code_challenge_method', 'must be S256', true, { type: 'string', enum: ['S256'] }),
        QUERY('scope', "space-separated; absent: the client's registered scopes"),
        QUERY('state', 'returned unchanged'),
      ],
      responses: {
        '200': { description: 'the login or consent page', content: { 'text/html': {} } },
        '302': {
          description: 'to redirect_uri with code, state, iss — or with error, error_description, state, iss',
          headers: { Location: { schema: { type: 'string' } } },
        },
        '400': {
          description: 'unknown client or redirect_uri mismatch: an HTML page, no redirect',
          content: { 'text/html': {} },
        },
        '429': { description: 'rate limited: an HTML page', content: { 'text/html': {} } },
        '503': { description: 'database unavailable: an HTML page', content: { 'text/html': {} } },
      },
    },
  },
  '/oauth/token': {
    post: {
      tags: ['oauth'],
      summary: 'Token endpoint: authorization_code (with PKCE), refresh_token, client_credentials',
      description: 'Every response has Cache-Control: no-store.',
      security: CLIENT_SECURITY,
      requestBody: form(['grant_type'], {
        grant_type: str('', { enum: ['authorization_code', 'refresh_token', 'client_credentials'] }),
        code: str('authorization_code: the code from the redirect (single use, AUTH_CODE_TTL)'),
        redirect_uri: str('authorization_code: the same as at /oauth/authorize'),
        code_verifier: str('authorization_code: 43–128 characters of [A-Za-z0-9._~-]', {
          pattern: '^[A-Za-z0-9._~-]{43,128}$',
        }),
        refresh_token: str('refresh_token: the current refresh token'),
        scope: str('refresh_token: a narrower scope; client_credentials: a subset of the registered scopes'),
        ...CLIENT_AUTH,
      }),
      responses: {
        '200': { description: 'tokens', content: { 'application/json': { schema: TOKEN_RESPONSE } } },
        ...PROTOCOL_ERRORS,
      },
    },
  },
  '/oauth/revoke': {
    post: {
      tags: ['oauth'],
      summary: 'RFC 7009 revocation (a refresh token revokes its whole grant)',
      security: CLIENT_SECURITY,
      requestBody: form(['token'], {
        token: str('an access or refresh token of this client'),
        token_type_hint: str('', { enum: ['access_token', 'refresh_token'] }),
        ...CLIENT_AUTH,
      }),
      responses: { '200': { description: 'revoked, or unknown (RFC 7009 §2.2)' }, ...PROTOCOL_ERRORS },
    },
  },
  '/oauth/introspect': {
    post: {
      tags: ['oauth'],
      summary: 'RFC 7662 introspection (confidential clients)',
      security: [{ client_secret_basic: [] }, {}],
      requestBody: form(['token'], {
        token: str('any token this issuer issued'),
        token_type_hint: str('', { enum: ['access_token', 'refresh_token'] }),
        ...CLIENT_AUTH,
      }),
      responses: {
        '200': {
          description: '`{"active": false}` or the token\'s claims',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['active'],
                properties: {
                  active: { type: 'boolean' },
                  scope: { type: 'string' },
                  client_id: { type: 'string' },
                  sub: { type: 'string' },
                  exp: { type: 'integer' },
                  iat: { type: 'integer' },
                  token_type: { type: 'string' },
                  iss: { type: 'string' },
                  aud: { type: 'string' },
                  jti: { type: 'string' },
                },
              },
            },
          },
        },
        ...PROTOCOL_ERRORS,
      },
    },
  },
  '/oauth/par': {
    post: {
      tags: ['oauth'],
      summary: 'RFC 9126 pushed authorization request (PAR); a DPoP header binds the code to its key',
      description:
        'Client authentication as at the token endpoint; the authorization request parameters are checked by the ' +
        'same rules in the same order, every failure a JSON error. Then GET /oauth/authorize?client_id=…&request_uri=….',
      security: CLIENT_SECURITY,
      requestBody: form(['response_type', 'redirect_uri', 'code_challenge', 'code_challenge_method'], {
        response_type: str('must be code', { enum: ['code'] }),
        redirect_uri: str('exactly a registered redirect URI'),
        code_challenge: str('BASE64URL(SHA256(code_verifier)), 43 characters', {
          pattern: '^[A-Za-z0-9_-]{43}$',
        }),
        code_challenge_method: str('must be S256', { enum: ['S256'] }),
        scope: str('space-separated'),
        state: str('returned unchanged'),
        nonce: str('OpenID Connect: returned in the id_token'),
        prompt: str('none, login or consent'),
        max_age: str('seconds since the last sign-in'),
        ...CLIENT_AUTH,
      }),
      responses: {
        '201': {
          description: '{"request_uri":"urn:ietf:params:oauth:request_uri:…","expires_in":60} (PAR_TTL)',
          content: { 'application/json': {} },
        },
        ...PROTOCOL_ERRORS,
      },
    },
  },
  '/oauth/logout': {
    get: {
      tags: ['oauth'],
      summary: 'OpenID Connect RP-Initiated Logout 1.0 (end_session_endpoint)',
      description:
        "Ends the user's session. post_logout_redirect_uri is honoured only when registered for the client known " +
        'from a valid id_token_hint (or client_id); without a valid hint the user confirms on a CSRF-protected page.',
      parameters: [
        QUERY('id_token_hint', 'an id_token this server issued to the client (expired is fine)'),
        QUERY('post_logout_redirect_uri', "exactly one of the client's post_logout_redirect_uris"),
        QUERY('state', 'returned unchanged with the redirect'),
        QUERY('client_id', 'the client, when no id_token_hint is sent'),
      ],
      responses: {
        '200': { description: 'the signed-out page, or the confirmation page', content: { 'text/html': {} } },
        '302': {
          description: 'to post_logout_redirect_uri with state',
          headers: { Location: { schema: { type: 'string' } } },
        },
        '400': { description: 'an invalid id_token_hint: an HTML page', content: { 'text/html': {} } },
      },
    },
    post: {
      tags: ['oauth'],
      summary: 'The confirmation form of /oauth/logout (CSRF token required)',
      responses: {
        '200': { description: 'the signed-out page', content: { 'text/html': {} } },
        '302': { description: 'to post_logout_redirect_uri with state' },
        '403': { description: 'the CSRF token is missing or wrong', content: { 'text/html': {} } },
      },
    },
  },
  '/health/live': {
    get: {
      tags: ['health'],
      summary: 'Liveness: 200 while the process runs',
      responses: { '200': { description: '@nestjs/terminus result: {"status":"ok",…}' } },
    },
  },
  '/health/ready': {
    get: {
      tags: ['health'],
      summary: 'Readiness: 200 when the database answers and a signing key is loaded, else 503',
      responses: {
        '200': { description: '{"status":"ok","info":{"database":…,"signing_key":…}}' },
        '503': { description: '{"status":"error","error":{…}}' },
      },
    },
  },
};
