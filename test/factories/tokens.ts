import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AuthorizationCodesService } from '../../src/authorization/authorization-codes.service';
import { randomToken, sha256Base64url, sha256Hex } from '../../src/common/crypto';
import type { CodeExchange } from '../../src/tokens/tokens.repository';
import { sql } from '../../src/database/sql';
import type { TestApp } from '../helpers/test-app';
import { createClient, type TestClient } from './clients';
import { pkcePair } from './pkce';

/** Settings every token test app uses: no rate limit interference from a test's own burst of requests. */
export const TOKEN_TEST_ENV = { RATE_LIMIT_TOKEN: '1000000', RATE_LIMIT_AUTHORIZE: '1000000' };

/**
 * A bare end user row (raw INSERT, dummy password hash: this user can never log in), for token tests that
 * only need a user id. Returns the id. For a user who signs in, see createUser in ./users.
 */
export async function insertUserRow(t: TestApp, username = `user-${randomToken(6)}`): Promise<string> {
  const rows = await sql<{ id: string }>(
    t.dataSource,
    `INSERT INTO users (username, username_normalized, password_hash) VALUES ($1, $2, 'x') RETURNING id`,
    [username, username.toLowerCase()],
  );
  return rows[0].id;
}

/** A bare grant row (live for an hour; `revoked`: already revoked), for tests of the access-token state. */
export async function insertGrantRow(
  t: TestApp,
  input: { clientId: string; userId: string | null; revoked?: boolean },
): Promise<string> {
  const id = randomUUID();
  await sql(
    t.dataSource,
    `INSERT INTO grants (id, client_id, user_id, grant_type, scope, expires_at, revoked_at)
     VALUES ($1, $2, $3, 'authorization_code', 'api:read', now() + interval '1 hour',
             CASE WHEN $4::boolean THEN now() END)`,
    [id, input.clientId, input.userId, input.revoked === true],
  );
  return id;
}

/** An authorization code as the authorize endpoint would issue it. */
export async function issueCode(
  t: TestApp,
  input: {
    client: TestClient;
    userId: string;
    scope?: string;
    redirectUri?: string;
    ttlSeconds?: number;
    nonce?: string;
  },
): Promise<{ code: string; verifier: string; challenge: string }> {
  const { verifier, challenge } = pkcePair();
  const code = await t.get(AuthorizationCodesService).issue({
    clientId: input.client.clientId,
    userId: input.userId,
    redirectUri: input.redirectUri ?? input.client.redirectUri,
    scope: input.scope ?? input.client.scope,
    codeChallenge: challenge,
    ttlSeconds: input.ttlSeconds ?? 60,
    nonce: input.nonce ?? null,
    authTime: new Date(),
    sid: randomUUID(),
  });
  return { code, verifier, challenge };
}

/** What TokensRepository.exchangeCode is asked to do for a code issued by `issueCode`, its verifier matching. */
export function codeExchangeOf(client: TestClient, issued: { code: string; verifier: string }): CodeExchange {
  return {
    codeHash: sha256Hex(issued.code),
    grantId: randomUUID(),
    clientId: client.clientId,
    redirectUri: client.redirectUri,
    codeChallenge: sha256Base64url(issued.verifier),
    grantTtlSeconds: 3600,
    refreshHash: sha256Hex(randomToken()),
  };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded, then joined with ':' and base64-encoded. */
export function basicAuth(clientId: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * POSTs a form to a protocol endpoint, authenticating as the client by its registered method
 * (pass `auth: false` to send the form as is).
 */
export function postForm(
  t: TestApp,
  path: string,
  form: Record<string, string>,
  client?: TestClient,
  options: { headers?: Record<string, string> } = {},
) {
  const body: Record<string, string> = { ...form };
  let req = request(t.url).post(path).type('form');
  if (client?.authMethod === 'client_secret_basic') {
    req = req.set('Authorization', basicAuth(client.clientId, client.clientSecret!));
  } else if (client?.authMethod === 'client_secret_post') {
    body.client_id = client.clientId;
    body.client_secret = client.clientSecret!;
  } else if (client) {
    body.client_id = client.clientId;
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
  return req.send(body);
}

export function exchangeCode(
  t: TestApp,
  client: TestClient,
  code: { code: string; verifier: string },
  overrides: Record<string, string> = {},
) {
  return postForm(
    t,
    '/oauth/token',
    {
      grant_type: 'authorization_code',
      code: code.code,
      redirect_uri: client.redirectUri,
      code_verifier: code.verifier,
      ...overrides,
    },
    client,
  );
}

export function refresh(
  t: TestApp,
  client: TestClient,
  refreshToken: string,
  extra: Record<string, string> = {},
) {
  return postForm(
    t,
    '/oauth/token',
    { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
    client,
  );
}

/** A user, a client and a fresh code → the token response of a successful exchange. */
export async function obtainTokens(
  t: TestApp,
  client: TestClient,
  userId?: string,
): Promise<{ access_token: string; refresh_token?: string; scope: string; userId: string }> {
  const user = userId ?? (await insertUserRow(t));
  const code = await issueCode(t, { client, userId: user });
  const res = await exchangeCode(t, client, code);
  if (res.status !== 200) throw new Error(`exchange failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, userId: user };
}

/** A grant row: its revocation state (revoked_at, revoke_cause), its user and its scope. */
export async function grantRow(t: TestApp, grantId: string) {
  const rows = await sql<{
    revoked_at: Date | null;
    revoke_cause: string | null;
    user_id: string | null;
    scope: string;
  }>(t.dataSource, `SELECT revoked_at, revoke_cause, user_id, scope FROM grants WHERE id = $1`, [grantId]);
  return rows[0];
}

/** The JWT's payload (no verification: tests verify with jose where it matters). */
export function jwtClaims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

export function jwtHeader(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** A confidential client for introspection (a resource server). */
export function introspectionClient(t: TestApp): Promise<TestClient> {
  return createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read', redirectUris: [] });
}

export function introspect(t: TestApp, caller: TestClient, token: string, hint?: string) {
  return postForm(t, '/oauth/introspect', { token, ...(hint ? { token_type_hint: hint } : {}) }, caller);
}

export function revoke(t: TestApp, caller: TestClient, token: string, hint?: string) {
  return postForm(t, '/oauth/revoke', { token, ...(hint ? { token_type_hint: hint } : {}) }, caller);
}
