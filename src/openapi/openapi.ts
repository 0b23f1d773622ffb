import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { BUILTIN_SCOPES } from '../common/scopes';
import type { ServerConfig } from '../config/config.namespaces';
import { latchkeyVersion } from '../common/version';
import { PROTOCOL_PATHS } from './protocol-paths';

export const CLIENT_CREDENTIALS_SCHEME = 'client_credentials';

/**
 * The OpenAPI document: the admin and audit APIs from their controllers, the OAuth endpoints and health from
 * protocol-paths.ts, no CORS preflight (OPTIONS) operations. Swagger UI's Authorize button gets a token with
 * the client_credentials grant (a confidential admin client's id and secret) from this server's token endpoint.
 */
export function buildOpenApiDocument(
  app: INestApplication,
  server: Pick<ServerConfig, 'issuer'>,
  scopes: string[],
): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Latchkey')
    .setDescription(
      'OAuth 2.1 authorization server with mandatory PKCE. The protocol endpoints (authorize, token, revoke, ' +
        'introspect, JWKS, metadata) and the admin API (scopes clients:read / clients:write) and audit API ' +
        '(scope audit:read). **Authorize** with a confidential client that has the client_credentials grant ' +
        '(`npm run cli -- client:create --name admin --grant-types client_credentials --scope "clients:read clients:write audit:read"`).',
    )
    .setVersion(latchkeyVersion())
    .addServer(server.issuer)
    .addBearerAuth()
    .addOAuth2(
      {
        type: 'oauth2',
        description: 'client_credentials at POST /oauth/token (client_secret_basic)',
        flows: {
          clientCredentials: {
            tokenUrl: `${server.issuer}/oauth/token`,
            scopes: Object.fromEntries(
              [...BUILTIN_SCOPES, ...scopes.filter((s) => !BUILTIN_SCOPES.includes(s))].map((s) => [s, s]),
            ),
          },
        },
      },
      CLIENT_CREDENTIALS_SCHEME,
    )
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'client_id:client_secret (RFC 6749 §2.3.1)' },
      'client_secret_basic',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  for (const [path, item] of Object.entries(document.paths)) {
    delete (item as Record<string, unknown>).options; // CORS preflights are not API
    // the bearer-protected APIs accept a token from the client_credentials flow as well
    for (const op of Object.values(item as Record<string, { security?: Array<Record<string, string[]>> }>)) {
      if (op && typeof op === 'object' && op.security?.some((s) => 'bearer' in s))
        op.security = [{ [CLIENT_CREDENTIALS_SCHEME]: [] }, { bearer: [] }];
    }
    if (Object.keys(item).length === 0) delete document.paths[path];
  }
  Object.assign(document.paths, PROTOCOL_PATHS);
  document.paths = Object.fromEntries(Object.entries(document.paths).sort(([a], [b]) => a.localeCompare(b)));
  return document;
}

/** GET /docs (Swagger UI) and /docs-json, unless DOCS=off. */
export function setupOpenApi(
  app: INestApplication,
  server: Pick<ServerConfig, 'issuer' | 'docs'>,
  scopes: string[],
): void {
  if (server.docs === 'off') return;
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, server, scopes), {
    customSiteTitle: 'Latchkey API',
    customfavIcon: '/favicon.ico',
    swaggerOptions: { persistAuthorization: false, tryItOutEnabled: true },
  });
}
