import { randomUUID } from 'node:crypto';
import { ClientsAdminService } from '../../src/clients/clients-admin.service';
import type { CreateClientDto } from '../../src/clients/dto/create-client.dto';
import { sql } from '../../src/database/sql';
import { KeyStore } from '../../src/keys/key-store.service';
import type { TestApp } from '../helpers/test-app';

export const ADMIN_SCOPES = 'clients:read clients:write audit:read';

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

/** Registers a client as the operator would at the CLI (built-in scopes allowed); returns id and secret. */
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
