import { randomUUID } from 'node:crypto';
import { ClientsAdminService } from '../../src/clients/clients-admin.service';
import type { CreateClientDto } from '../../src/clients/dto/create-client.dto';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { KeyStore } from '../../src/keys/key-store.service';
import type { TestApp } from '../helpers/test-app';

export const ADMIN_SCOPES = 'clients:read clients:write audit:read';

export type AuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** A client row a test created, with its clear secret (null for a public client). */
export interface TestClient {
  clientId: string;
  clientName: string;
  clientSecret: string | null;
  authMethod: AuthMethod;
  /** the first registered redirect URI ('' when none) */
  redirectUri: string;
  redirectUris: string[];
  scope: string;
}

export interface TestClientOptions {
  clientId?: string;
  clientName?: string;
  authMethod?: AuthMethod;
  /** the clear secret (default: a random one for a confidential client); null stores no secret */
  secret?: string | null;
  /** a stored secret hash as is (e.g. a confidential client whose secret the test never uses) */
  secretHash?: string | null;
  redirectUris?: string[];
  grantTypes?: string[];
  scope?: string;
  requireConsent?: boolean;
  enabled?: boolean;
  /** leave an existing client of this id as it is (ON CONFLICT DO NOTHING) */
  ifAbsent?: boolean;
}

/** What a browser-facing public client looks like in the authorization tests: loopback redirect, no consent. */
export const PUBLIC_CLIENT: TestClientOptions = {
  authMethod: 'none',
  clientName: 'Example App',
  redirectUris: ['http://127.0.0.1:4999/callback'],
};

/**
 * The one way tests make a client: a plain SQL insert (secret stored as SHA-256, as the clients module does),
 * so that tests can also create shapes the admin API refuses (no authorization_code grant, built-in scopes).
 * Defaults: a confidential client_secret_basic client with a random secret, redirect URI
 * https://app.example/callback, grants authorization_code + refresh_token, scope "api:read api:write",
 * consent remembered (require_consent false), enabled. PUBLIC_CLIENT holds a public client's defaults.
 * To register a client through the admin service's rules instead, see registerClient.
 */
export async function createClient(t: TestApp, options: TestClientOptions = {}): Promise<TestClient> {
  const authMethod = options.authMethod ?? 'client_secret_basic';
  const clientId = options.clientId ?? `c-${randomToken(9)}`;
  const clientName = options.clientName ?? `Test ${clientId}`;
  const clientSecret =
    authMethod === 'none' ? null : options.secret === undefined ? randomToken() : options.secret;
  const secretHash =
    options.secretHash !== undefined
      ? options.secretHash
      : clientSecret === null
        ? null
        : sha256Hex(clientSecret);
  const redirectUris = options.redirectUris ?? ['https://app.example/callback'];
  const scope = options.scope ?? 'api:read api:write';
  await sql(
    t.dataSource,
    `INSERT INTO clients (client_id, client_name, token_endpoint_auth_method, secret_hash, redirect_uris,
                          grant_types, scope, require_consent, enabled)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)${options.ifAbsent ? ' ON CONFLICT (client_id) DO NOTHING' : ''}`,
    [
      clientId,
      clientName,
      authMethod,
      secretHash,
      redirectUris,
      options.grantTypes ?? ['authorization_code', 'refresh_token'],
      scope,
      options.requireConsent ?? false,
      options.enabled ?? true,
    ],
  );
  return {
    clientId,
    clientName,
    clientSecret,
    authMethod,
    redirectUri: redirectUris[0] ?? '',
    redirectUris,
    scope,
  };
}

/** A valid POST /admin/clients body (a confidential web client); override any field. */
export function buildClient(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_name: 'Billing dashboard',
    redirect_uris: ['https://billing.example.com/oauth/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'api:read',
    ...overrides,
  };
}

/**
 * Registers a client through the clients admin service, as the operator would at the CLI (its rules apply,
 * built-in scopes allowed); returns id and secret. For a client row of any shape, see createClient.
 */
export async function registerClient(
  t: TestApp,
  body: Record<string, unknown> = buildClient(),
): Promise<{ clientId: string; secret?: string }> {
  const created = await t
    .get(ClientsAdminService)
    .create(body as unknown as CreateClientDto, { kind: 'cli' });
  return { clientId: created.client_id, secret: created.client_secret };
}

/** A live grant row for a client (what the token endpoint creates for each issued token). */
export async function insertGrant(
  t: TestApp,
  clientId: string,
  scope: string,
  grantType = 'client_credentials',
  userId: string | null = null,
): Promise<string> {
  const [row] = await sql<{ id: string }>(
    t.dataSource,
    `INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at)
     VALUES ($1, $2, $3, $4, now() + interval '1 hour') RETURNING id`,
    [clientId, userId, grantType, scope],
  );
  return row.id;
}

/**
 * An access token exactly as the token endpoint mints one (RFC 9068, signed by the current key),
 * for a grant row of the client. `overrides` replace claims (e.g. exp in the past, sub of a user).
 */
export function mintAccessToken(
  t: TestApp,
  claims: { clientId: string; scope: string; grantId: string },
  overrides: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  return t.get(KeyStore).signJwt({
    iss: t.url,
    sub: claims.clientId,
    aud: t.url,
    client_id: claims.clientId,
    scope: claims.scope,
    iat: now,
    exp: now + 900,
    jti: randomUUID(),
    gid: claims.grantId,
    ...overrides,
  });
}

/**
 * An admin caller: a confidential client_credentials client holding `scope`, a grant, and a token for it.
 * (Until the token endpoint exists, this is how tests get admin tokens.)
 */
export async function adminCaller(
  t: TestApp,
  scope = 'clients:read clients:write',
): Promise<{ token: string; clientId: string; secret: string; grantId: string }> {
  const { clientId, secret } = await registerClient(t, {
    client_name: `admin ${scope}`,
    grant_types: ['client_credentials'],
    scope,
  });
  const grantId = await insertGrant(t, clientId, scope);
  return { token: mintAccessToken(t, { clientId, scope, grantId }), clientId, secret: secret!, grantId };
}
