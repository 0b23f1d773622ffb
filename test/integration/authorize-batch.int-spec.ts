import { jest } from '@jest/globals';
import { randomToken, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { SHARED_STATEMENT_MIN, STATEMENT_BATCH_MAX } from '../../src/database/statement-batch';
import {
  AuthorizationCodesRepository,
  type NewCodeForSession,
} from '../../src/authorization/authorization-codes.repository';
import type { PresentedSession } from '../../src/users/session-sql';
import { createClient, type TestClient } from '../factories/clients';
import { insertUserRow, TOKEN_TEST_ENV } from '../factories/tokens';
import { codeForSession, signedInSession } from '../factories/users';
import { countingStatements, statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * AuthorizationCodesRepository.insertForSession: SHARED_STATEMENT_MIN or more authorize statements (session
 * lookup, consent check, code insert) made in the same turn of the event loop are made by one statement. Each
 * caller gets exactly what a statement of its own would have answered: its session's user or nothing, whether its
 * code was inserted, and whether its session is fresh enough for max_age.
 */
describe('authorize statements batched on the real database', () => {
  let t: TestApp;
  let repo: AuthorizationCodesRepository;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    repo = t.get(AuthorizationCodesRepository);
    client = await createClient(t, { scope: 'api:read api:write' });
  });
  afterAll(() => t.close());

  /** A signed-in user (a live session, last seen `seenAgo` ago), consenting to `consent` when given. */
  const signedIn = async (
    opts: { consent?: string; seenAgo?: string; signedInAgo?: string; expired?: boolean } = {},
  ) => {
    const userId = await insertUserRow(t);
    const { consent, ...session } = opts;
    return {
      userId,
      session: await signedInSession(t, userId, {
        ...session,
        consent: consent === undefined ? undefined : { clientId: client.clientId, scope: consent },
      }),
    };
  };
  const code = (extra: Partial<NewCodeForSession> = {}) => codeForSession(client, extra);
  const codeExists = async (hash: string) =>
    (await sql(t.dataSource, `SELECT 1 FROM authorization_codes WHERE code_hash = $1`, [hash])).length === 1;
  const lastSeen = async (idHash: string) =>
    (
      await sql<{ last_seen_at: Date; idle_expires_at: Date }>(
        t.dataSource,
        `SELECT last_seen_at, idle_expires_at FROM sessions WHERE id_hash = $1`,
        [idHash],
      )
    )[0];
  /** Counts the shared statements (`latchkey_insert_code_for_sessions_N`) run while `work` runs. */
  const countingShared = <T>(work: () => Promise<T>) =>
    countingStatements(t, 'latchkey_insert_code_for_sessions_', work);

  it('answers each call of one shared statement as a statement of its own would', async () => {
    const consenting = await signedIn({ consent: 'api:read api:write' });
    const narrow = await signedIn({ consent: 'api:write' }); // consented to less than asked
    const none = await signedIn(); // never consented
    const expired = await signedIn({ consent: 'api:read', expired: true });
    const old = await signedIn({ consent: 'api:read', signedInAgo: '2 hours' }); // max_age 600 refuses it
    const asking = await signedIn({ consent: 'api:read' }); // issue false: prompt=consent
    const unknown: PresentedSession = {
      idHash: sha256Hex(randomToken()),
      idleSeconds: 1800,
      touchAfterSeconds: 60,
    };
    const calls = [
      { s: consenting.session, c: code(), issue: true },
      { s: narrow.session, c: code(), issue: true },
      { s: none.session, c: code(), issue: true },
      { s: expired.session, c: code(), issue: true },
      { s: old.session, c: code({ maxAgeSeconds: 600 }), issue: true },
      { s: asking.session, c: code(), issue: false },
      { s: unknown, c: code(), issue: true },
      { s: consenting.session, c: code({ scope: 'api:write', nonce: 'n-1', dpopJkt: 'jkt-1' }), issue: true },
    ];
    const { result, statements } = await countingShared(() =>
      Promise.all(calls.map(({ s, c, issue }) => repo.insertForSession(s, c, issue))),
    );
    expect(statements).toBe(1);
    expect(result).toEqual([
      { userId: consenting.userId, inserted: true, fresh: true },
      { userId: narrow.userId, inserted: false, fresh: true },
      { userId: none.userId, inserted: false, fresh: true },
      undefined,
      { userId: old.userId, inserted: false, fresh: false },
      { userId: asking.userId, inserted: false, fresh: true },
      undefined,
      { userId: consenting.userId, inserted: true, fresh: true },
    ]);
    const exists = await Promise.all(calls.map(({ c }) => codeExists(c.codeHash)));
    expect(exists).toEqual([true, false, false, false, false, false, false, true]);
    const [row] = await sql<Record<string, unknown>>(
      t.dataSource,
      `SELECT ac.user_id, ac.scope, ac.nonce, ac.dpop_jkt, ac.redirect_uri, ac.sid = s.sid AS same_sid,
              ac.auth_time = s.created_at AS same_auth_time,
              ac.expires_at BETWEEN now() + interval '50 seconds' AND now() + interval '70 seconds' AS ttl
         FROM authorization_codes ac JOIN sessions s ON s.id_hash = $2
        WHERE ac.code_hash = $1`,
      [calls[7].c.codeHash, consenting.session.idHash],
    );
    expect(row).toEqual({
      user_id: consenting.userId,
      scope: 'api:write',
      nonce: 'n-1',
      dpop_jkt: 'jkt-1',
      redirect_uri: client.redirectUri,
      same_sid: true,
      same_auth_time: true,
      ttl: true,
    });
  });

  it('slides the idle expiry of a session due for it once, and leaves a recently seen one alone', async () => {
    const due = await signedIn({ consent: 'api:read', seenAgo: '5 minutes' });
    const recent = await signedIn({ consent: 'api:read', seenAgo: '1 second' });
    const [dueBefore, recentBefore] = [
      await lastSeen(due.session.idHash),
      await lastSeen(recent.session.idHash),
    ];
    const calls = [due, due, recent, recent].map((u) => repo.insertForSession(u.session, code(), true));
    const { result, statements } = await countingShared(() => Promise.all(calls));
    expect(statements).toBe(1);
    expect(result.map((r) => r?.inserted)).toEqual([true, true, true, true]);
    const dueAfter = await lastSeen(due.session.idHash);
    expect(dueAfter.last_seen_at.getTime()).toBeGreaterThan(dueBefore.last_seen_at.getTime());
    expect(dueAfter.idle_expires_at.getTime()).toBeGreaterThan(dueBefore.idle_expires_at.getTime());
    expect(await lastSeen(recent.session.idHash)).toEqual(recentBefore);
  });

  it(`splits more than ${STATEMENT_BATCH_MAX} concurrent calls, and runs fewer than ${SHARED_STATEMENT_MIN} one statement each`, async () => {
    const user = await signedIn({ consent: 'api:read' });
    const many = await countingShared(() =>
      Promise.all(
        Array.from({ length: STATEMENT_BATCH_MAX + SHARED_STATEMENT_MIN }, () =>
          repo.insertForSession(user.session, code(), true),
        ),
      ),
    );
    expect(many.statements).toBe(2);
    expect(many.result.every((r) => r?.inserted === true && r.userId === user.userId)).toBe(true);
    const few = await countingShared(() =>
      Promise.all(
        Array.from({ length: SHARED_STATEMENT_MIN - 1 }, () =>
          repo.insertForSession(user.session, code(), true),
        ),
      ),
    );
    expect(few.statements).toBe(0);
    expect(few.result.every((r) => r?.inserted === true)).toBe(true);
  });

  it('runs each call on its own when the database refuses the shared statement', async () => {
    const users = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN }, () => signedIn({ consent: 'api:read' })),
    );
    const codes = users.map(() => code());
    const { pool, method } = statementRunner(t);
    const failure = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const spy = jest.spyOn(pool, method).mockRejectedValueOnce(failure);
    try {
      const result = await Promise.all(users.map((u, i) => repo.insertForSession(u.session, codes[i], true)));
      expect(result).toEqual(users.map((u) => ({ userId: u.userId, inserted: true, fresh: true })));
    } finally {
      spy.mockRestore();
    }
    expect(await Promise.all(codes.map((c) => codeExists(c.codeHash)))).toEqual(codes.map(() => true));
  });

  it('fails every call of a statement when the database cannot be reached', async () => {
    const users = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN }, () => signedIn({ consent: 'api:read' })),
    );
    const { pool, method } = statementRunner(t);
    const spy = jest
      .spyOn(pool, method)
      .mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    try {
      const settled = await Promise.allSettled(
        users.map((u) => repo.insertForSession(u.session, code(), true)),
      );
      expect(settled.map((s) => s.status)).toEqual(users.map(() => 'rejected'));
    } finally {
      spy.mockRestore();
    }
  });
});
