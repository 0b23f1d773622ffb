import { randomUUID } from 'node:crypto';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import type { NewCodeForSession } from '../../src/authorization/authorization-codes.repository';
import type { PresentedSession } from '../../src/users/session-sql';
import { UsersService } from '../../src/users/users.service';
import type { TestApp } from '../helpers/test-app';

export interface TestUser {
  id: string;
  username: string;
  password: string;
}

/** Creates an end user (through UsersService, as `user:create` does). Defaults: a unique name, a fixed password. */
export async function createUser(
  t: TestApp,
  options: { username?: string; password?: string } = {},
): Promise<TestUser> {
  const username = options.username ?? `user-${randomUUID().slice(0, 8)}`;
  const password = options.password ?? 'correct horse battery staple';
  const user = await t.get(UsersService).create(username, password);
  return { id: user.id, username: user.username, password };
}

/**
 * A session row for `userId` as sign-in leaves it (signed in `signedInAgo`, last seen `seenAgo`; `expired`: idle
 * expiry passed), with the user's remembered consent to `consent.clientId` when given, and the session as the
 * authorize statement is presented it.
 */
export async function signedInSession(
  t: TestApp,
  userId: string,
  opts: {
    consent?: { clientId: string; scope: string };
    seenAgo?: string;
    signedInAgo?: string;
    expired?: boolean;
  } = {},
): Promise<PresentedSession> {
  const idHash = sha256Hex(randomToken());
  await sql(
    t.dataSource,
    `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, idle_expires_at, absolute_expires_at)
     VALUES ($1, $2, now() - $3::interval, now() - $4::interval,
             now() + CASE WHEN $5::boolean THEN interval '-1 minute' ELSE interval '10 minutes' END,
             now() + interval '8 hours')`,
    [idHash, userId, opts.signedInAgo ?? '1 minute', opts.seenAgo ?? '1 second', opts.expired === true],
  );
  if (opts.consent)
    await sql(t.dataSource, `INSERT INTO consents (user_id, client_id, scope) VALUES ($1, $2, $3)`, [
      userId,
      opts.consent.clientId,
      opts.consent.scope,
    ]);
  return { idHash, idleSeconds: 1800, touchAfterSeconds: 60 };
}

/** A code the authorize statement is asked to issue for a signed-in session (`insertForSession`), for `client`. */
export function codeForSession(
  client: { clientId: string; redirectUri: string },
  extra: Partial<NewCodeForSession> = {},
): NewCodeForSession {
  return {
    codeHash: sha256Hex(randomToken()),
    clientId: client.clientId,
    redirectUri: client.redirectUri,
    scope: 'api:read',
    codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    ttlSeconds: 60,
    nonce: null,
    maxAgeSeconds: null,
    ...extra,
  };
}
