import { jest } from '@jest/globals';
import { randomToken, sha256Base64url, sha256Hex } from '../../src/common/crypto';
import { sql } from '../../src/database/sql';
import { SHARED_STATEMENT_MIN } from '../../src/database/statement-batch';
import {
  AuthorizationCodesRepository,
  type CodeForSessionEvents,
} from '../../src/authorization/authorization-codes.repository';
import { AuditEmitter, type AuditEventInput } from '../../src/events/events';
import { TokensRepository } from '../../src/tokens/tokens.repository';
import { createClient, type TestClient } from '../factories/clients';
import { codeExchangeOf, insertUserRow, issueCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { codeForSession, signedInSession } from '../factories/users';
import { countingStatements, statementRunner } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The hot statements write their request's audit events themselves (AuditEmitter.stage, audit/audit-sql.ts): the
 * authorize statement `authorization.requested` always and `authorization_code.issued` with the code, the code
 * exchange and the refresh rotation `token.issued` with the grant — in the change's own transaction, the statement's values (subject,
 * scope, grant id) filled in, and nothing for a change that did not happen. Alone, shared, and when the shared
 * statement is refused (each call then writes its rows once, in a statement of its own).
 */
describe('audit events written by the hot statements', () => {
  let t: TestApp;
  let codes: AuthorizationCodesRepository;
  let tokens: TokensRepository;
  let audit: AuditEmitter;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    codes = t.get(AuthorizationCodesRepository);
    tokens = t.get(TokensRepository);
    audit = t.get(AuditEmitter);
    client = await createClient(t, { scope: 'api:read api:write' });
  });
  afterAll(() => t.close());

  /** The rows stored for one staged call, found by the marker in their details. */
  const rowsOf = (marker: string) =>
    sql<{
      type: string;
      outcome: string;
      client_id: string;
      subject: string | null;
      details: Record<string, unknown>;
    }>(
      t.dataSource,
      `SELECT type, outcome, client_id, subject, details FROM audit_events
        WHERE details->>'marker' = $1 ORDER BY type COLLATE "C"`,
      [marker],
    );
  const staged = (event: Omit<AuditEventInput, 'clientId'>) =>
    audit.stage({ ...event, clientId: client.clientId });

  /** One authorize call with its two events staged, as AuthorizationService stages them. */
  const authorizeCall = async (opts: { consent: boolean; live?: boolean }) => {
    const userId = await insertUserRow(t);
    const session = await signedInSession(t, userId, {
      expired: opts.live === false,
      consent: opts.consent ? { clientId: client.clientId, scope: 'api:read' } : undefined,
    });
    const marker = randomToken(8);
    const requested = await staged({
      type: 'authorization.requested',
      outcome: 'success',
      details: { marker },
    });
    const issued = await staged({
      type: 'authorization_code.issued',
      outcome: 'success',
      details: { marker, scope: 'api:read' },
    });
    const code = codeForSession(client);
    const events: CodeForSessionEvents = { requested: requested.row, issued: issued.row };
    return { userId, session, marker, code, events, expectInserted: opts.consent && opts.live !== false };
  };
  type AuthorizeCall = Awaited<ReturnType<typeof authorizeCall>>;
  const authorize = (c: AuthorizeCall) => codes.insertForSession(c.session, c.code, true, c.events);

  /** What each call's rows must be: `requested` always, `issued` (the session's user as subject) with the code. */
  const expectAuthorizeRows = async (c: AuthorizeCall) => {
    const rows = await rowsOf(c.marker);
    const expected = [
      {
        type: 'authorization.requested',
        outcome: 'success',
        client_id: client.clientId,
        subject: null,
        details: { marker: c.marker },
      },
      ...(c.expectInserted
        ? [
            {
              type: 'authorization_code.issued',
              outcome: 'success',
              client_id: client.clientId,
              subject: c.userId,
              details: { marker: c.marker, scope: 'api:read' },
            },
          ]
        : []),
    ];
    expect(rows).toEqual(expected);
  };

  it('the authorize statement of its own writes requested always, and issued only with the code', async () => {
    const calls = [
      await authorizeCall({ consent: true }),
      await authorizeCall({ consent: false }),
      await authorizeCall({ consent: true, live: false }),
    ];
    for (const c of calls) await authorize(c); // one at a time: statements of their own
    for (const c of calls) await expectAuthorizeRows(c);
  });

  it('the shared authorize statement writes each call’s rows, as a statement of its own would', async () => {
    const calls = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN + 2 }, (_, i) =>
        authorizeCall({ consent: i % 3 !== 1, live: i % 3 !== 2 }),
      ),
    );
    const { result, statements } = await countingStatements(t, 'latchkey_insert_code_for_sessions_', () =>
      Promise.all(calls.map(authorize)),
    );
    expect(statements).toBe(1);
    expect(result.map((r) => r?.inserted === true)).toEqual(calls.map((c) => c.expectInserted));
    for (const c of calls) await expectAuthorizeRows(c);
  });

  it('writes each call’s rows once when the database refuses the shared statement', async () => {
    const calls = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN }, () => authorizeCall({ consent: true })),
    );
    const { pool, method } = statementRunner(t);
    const failure = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    const spy = jest.spyOn(pool, method).mockRejectedValueOnce(failure);
    try {
      await Promise.all(calls.map(authorize));
    } finally {
      spy.mockRestore();
    }
    for (const c of calls) await expectAuthorizeRows(c);
  });

  /** One exchange with its token.issued staged, as the token endpoint stages it; `wrongVerifier`: refused. */
  const exchangeCall = async (opts: { wrongVerifier?: boolean } = {}) => {
    const userId = await insertUserRow(t);
    const issuedCode = await issueCode(t, { client, userId, scope: 'api:read api:write' });
    const marker = randomToken(8);
    const event = await staged({
      type: 'token.issued',
      outcome: 'success',
      details: { marker, grant_type: 'authorization_code' },
    });
    const exchange = { ...codeExchangeOf(client, issuedCode), issuedEvent: event.row };
    if (opts.wrongVerifier) exchange.codeChallenge = sha256Base64url(randomToken());
    return { userId, marker, exchange, refused: opts.wrongVerifier === true };
  };
  type ExchangeCall = Awaited<ReturnType<typeof exchangeCall>>;

  /** The rows of a staged token.issued: none when `refused`, else one with the statement's subject, scope and grant. */
  const expectIssuedRows = async (
    marker: string,
    refused: boolean,
    expected: { subject: string; grantType: string; scope: string; grantId: string },
  ) => {
    const rows = await rowsOf(marker);
    if (refused) return expect(rows).toEqual([]);
    expect(rows).toEqual([
      {
        type: 'token.issued',
        outcome: 'success',
        client_id: client.clientId,
        subject: expected.subject,
        details: {
          marker,
          grant_type: expected.grantType,
          scope: expected.scope,
          grant_id: expected.grantId,
        },
      },
    ]);
  };
  const expectExchangeRows = (c: ExchangeCall) =>
    expectIssuedRows(c.marker, c.refused, {
      subject: c.userId,
      grantType: 'authorization_code',
      scope: 'api:read api:write',
      grantId: c.exchange.grantId,
    });

  it('the code exchange writes token.issued with the grant — its subject, scope and id — and nothing when refused', async () => {
    const alone = [await exchangeCall(), await exchangeCall({ wrongVerifier: true })];
    for (const c of alone) expect((await tokens.exchangeCode(c.exchange)) === undefined).toBe(c.refused);
    const together = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN + 1 }, (_, i) => exchangeCall({ wrongVerifier: i === 2 })),
    );
    const { statements } = await countingStatements(t, 'latchkey_exchange_code_batch_', () =>
      Promise.all(together.map((c) => tokens.exchangeCode(c.exchange))),
    );
    expect(statements).toBe(1);
    for (const c of [...alone, ...together]) await expectExchangeRows(c);
  });

  /** One rotation with its token.issued staged; `narrow`: a narrower scope; `rotated`: its token already used. */
  const rotationCall = async (opts: { narrow?: boolean; rotated?: boolean } = {}) => {
    const c = await exchangeCall();
    const refreshToken = randomToken();
    const created = await tokens.exchangeCode({ ...c.exchange, refreshHash: sha256Hex(refreshToken) });
    const rotation = (issuedEvent: string | null) => ({
      tokenHash: sha256Hex(refreshToken),
      clientId: client.clientId,
      successorHash: sha256Hex(randomToken()),
      requestedScope: opts.narrow ? 'api:write' : null,
      issuedEvent,
    });
    if (opts.rotated) await tokens.rotateRefresh(rotation(null));
    const marker = randomToken(8);
    const event = await staged({
      type: 'token.issued',
      outcome: 'success',
      details: { marker, grant_type: 'refresh_token' },
    });
    return { userId: c.userId, grantId: created!.grant_id, marker, rotation: rotation(event.row), opts };
  };
  type RotationCall = Awaited<ReturnType<typeof rotationCall>>;

  const expectRotationRows = (c: RotationCall) =>
    expectIssuedRows(c.marker, c.opts.rotated === true, {
      subject: c.userId,
      grantType: 'refresh_token',
      scope: c.opts.narrow ? 'api:write' : 'api:read api:write',
      grantId: c.grantId,
    });

  it('the refresh rotation writes token.issued with the grant and the new access token’s scope, and nothing when refused', async () => {
    const alone = [
      await rotationCall(),
      await rotationCall({ narrow: true }),
      await rotationCall({ rotated: true }),
    ];
    for (const c of alone)
      expect((await tokens.rotateRefresh(c.rotation)) === undefined).toBe(c.opts.rotated === true);
    const together = await Promise.all(
      Array.from({ length: SHARED_STATEMENT_MIN + 2 }, (_, i) =>
        rotationCall({ narrow: i % 3 === 1, rotated: i % 3 === 2 }),
      ),
    );
    const { statements } = await countingStatements(t, 'latchkey_rotate_refresh_batch_', () =>
      Promise.all(together.map((c) => tokens.rotateRefresh(c.rotation))),
    );
    expect(statements).toBe(1);
    for (const c of [...alone, ...together]) await expectRotationRows(c);
  });
});
