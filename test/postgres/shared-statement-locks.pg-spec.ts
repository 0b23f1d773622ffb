import { jest } from '@jest/globals';
import { Client } from 'pg';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { AuthorizationCodesRepository } from '../../src/authorization/authorization-codes.repository';
import { SHARED_STATEMENT_MIN, TokensRepository } from '../../src/tokens/tokens.repository';
import {
  codeExchangeOf,
  insertUserRow,
  issueCode,
  jwtClaims,
  obtainTokens,
  refresh,
  TOKEN_TEST_ENV,
} from '../factories/tokens';
import { createClient, type TestClient } from '../factories/clients';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

jest.setTimeout(60_000);

/**
 * The shared refresh-rotation, code-exchange and authorize statements never wait for a row lock (SKIP LOCKED), so
 * they cannot deadlock with a revocation or another instance's statement; a token or code another transaction
 * holds is left to a statement of its own, which waits and decides as it always did, and a session another
 * transaction holds is not touched (its idle expiry slides at the next request). Needs a second connection holding the
 * lock: PostgreSQL only.
 */
describe('shared write statements and row locks on PostgreSQL', () => {
  let db: TestDatabase;
  let t: TestApp;
  let client: TestClient;
  let holder: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await createTestApp(TOKEN_TEST_ENV, { database: db });
    client = await createClient(t);
    holder = new Client({ connectionString: db.url });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await t?.close();
    await db?.drop();
  });

  const lock = async (token: string) => {
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [sha256Hex(token)]);
  };
  const rotation = (token: string) => ({
    tokenHash: sha256Hex(token),
    clientId: client.clientId,
    successorHash: sha256Hex(randomToken()),
    requestedScope: null,
  });

  it('skips a token another transaction holds, rotates the others of its statement at once, then waits for it', async () => {
    const repo = t.get(TokensRepository);
    const [held, ...free] = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN }, () => obtainTokens(t, client)),
    );
    await lock(held.refresh_token!);
    let heldSettled = false;
    const heldRotation = repo.rotateRefresh(rotation(held.refresh_token!)).finally(() => {
      heldSettled = true;
    });
    try {
      const rotated = await Promise.all(free.map((f) => repo.rotateRefresh(rotation(f.refresh_token!))));
      expect(rotated.map((row) => row?.grant_id)).toEqual(free.map((f) => jwtClaims(f.access_token).gid));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heldSettled).toBe(false); // its own statement waits for the lock
    } finally {
      await holder.query('ROLLBACK');
    }
    expect((await heldRotation)?.grant_id).toBe(jwtClaims(held.access_token).gid);
  });

  it('a refresh whose token is held waits for the lock through the deciding statement, then succeeds once', async () => {
    const held = await obtainTokens(t, client);
    await lock(held.refresh_token!);
    let settled = false;
    const pending = refresh(t, client, held.refresh_token!).then((res) => {
      settled = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(settled).toBe(false); // waiting for the lock, not refused
    await holder.query('COMMIT');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(jwtClaims(res.body.access_token).gid).toBe(jwtClaims(held.access_token).gid);
    await refresh(t, client, res.body.refresh_token).expect(200);
  });

  it('skips a code another transaction holds, exchanges the others of its statement at once, then waits for it', async () => {
    const repo = t.get(TokensRepository);
    const userId = await insertUserRow(t);
    const codes = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN }, () => issueCode(t, { client, userId, ttlSeconds: 60 })),
    );
    const [held, ...free] = codes.map((issued) => codeExchangeOf(client, issued));
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM authorization_codes WHERE code_hash = $1 FOR UPDATE`, [held.codeHash]);
    let heldSettled = false;
    const heldExchange = repo.exchangeCode(held).finally(() => {
      heldSettled = true;
    });
    try {
      const exchanged = await Promise.all(free.map((e) => repo.exchangeCode(e)));
      expect(exchanged.map((row) => row?.grant_id)).toEqual(free.map((e) => e.grantId));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heldSettled).toBe(false); // its own statement waits for the lock
    } finally {
      await holder.query('ROLLBACK');
    }
    expect((await heldExchange)?.grant_id).toBe(held.grantId);
  });

  it('issues codes for sessions another transaction holds without waiting, leaving the held session untouched', async () => {
    const repo = t.get(AuthorizationCodesRepository);
    const sessions = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN }, async () => {
        const userId = await insertUserRow(t);
        const idHash = sha256Hex(randomToken());
        await holder.query(
          `INSERT INTO sessions (id_hash, user_id, last_seen_at, idle_expires_at, absolute_expires_at)
           VALUES ($1, $2, now() - interval '5 minutes', now() + interval '10 minutes', now() + interval '8 hours')`,
          [idHash, userId],
        );
        await holder.query(`INSERT INTO consents (user_id, client_id, scope) VALUES ($1, $2, '')`, [
          userId,
          client.clientId,
        ]);
        return { userId, idHash };
      }),
    );
    const seen = async (idHash: string) =>
      (await holder.query(`SELECT last_seen_at FROM sessions WHERE id_hash = $1`, [idHash])).rows[0]
        .last_seen_at;
    const heldSeen = await seen(sessions[0].idHash);
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM sessions WHERE id_hash = $1 FOR UPDATE`, [sessions[0].idHash]);
    try {
      const answered = await Promise.all(
        sessions.map((s) =>
          repo.insertForSession(
            { idHash: s.idHash, idleSeconds: 1800, touchAfterSeconds: 60 },
            {
              codeHash: sha256Hex(randomToken()),
              clientId: client.clientId,
              redirectUri: client.redirectUri,
              scope: '',
              codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
              ttlSeconds: 60,
              nonce: null,
              maxAgeSeconds: null,
            },
            true,
          ),
        ),
      );
      expect(answered).toEqual(sessions.map((s) => ({ userId: s.userId, inserted: true, fresh: true })));
    } finally {
      await holder.query('ROLLBACK');
    }
    expect(await seen(sessions[0].idHash)).toEqual(heldSeen); // skipped: the holder had it
    for (const s of sessions.slice(1))
      expect((await seen(s.idHash)).getTime()).toBeGreaterThan(heldSeen.getTime());
  });
});
