import { type StoredAuditRow as StoredEvent } from '../factories/audit-events';
import { sql } from '../../src/database/sql';
import { loginAndConsent, type CookieJar, type TestUser } from '../factories/authorize';
import { createClient, type TestClient } from '../factories/clients';
import { pkcePair } from '../factories/pkce';
import { exchangeCode, TOKEN_TEST_ENV } from '../factories/tokens';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The events the hot statements write themselves (docs/audit.md, durability): through the real endpoints, each row
 * carries its request's facts and the request flags the report counts with, exactly as a row of the group commit.
 */
describe('audit events of the hot paths, through HTTP', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp(TOKEN_TEST_ENV);
    client = await createClient(t, { scope: 'api:read' });
  });
  afterAll(() => t.close());

  /** A browser's authorize with its PKCE pair (signing in unless `jar` carries a session). */
  const authorize = (pair: { challenge: string }, signedIn?: { cookies: CookieJar; user: TestUser }) =>
    loginAndConsent(t, {
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      challenge: pair.challenge,
      scope: 'api:read',
      ...(signedIn ? { jar: signedIn.cookies, user: signedIn.user } : {}),
    });

  const eventsOf = (types: string[]) =>
    sql<StoredEvent>(
      t.dataSource,
      `SELECT type, subject, host(ip) AS ip, user_agent, request_id, duration_ms, details, request_first,
              request_first_failure
         FROM audit_events WHERE client_id = $1 AND type = ANY ($2) ORDER BY occurred_at, id`,
      [client.clientId, types],
    );

  it('a signed-in authorize and its exchange: each request one first row, with the request facts', async () => {
    const first = pkcePair();
    const signIn = await authorize(first);
    // the hot path: the session and the remembered consent, one statement
    const again = pkcePair();
    const hot = await authorize(again, signIn);
    const res = await exchangeCode(t, client, { code: hot.code, verifier: again.verifier }).expect(200);

    const rows = await eventsOf(['authorization.requested', 'authorization_code.issued', 'token.issued']);
    // one request's two rows, written by one statement (the same millisecond: ordered by type here)
    const [requested, issued] = rows
      .filter((r) => r.request_id === rows.at(-2)!.request_id)
      .sort((a, b) => (a.type < b.type ? -1 : 1));
    expect([requested.type, issued.type]).toEqual(['authorization.requested', 'authorization_code.issued']);
    expect(requested).toMatchObject({ subject: null, details: { scope: 'api:read' }, request_first: true });
    expect(issued).toMatchObject({
      subject: signIn.user.id,
      details: { scope: 'api:read' },
      request_first: false,
    });
    expect(issued.details.challenge_sha256).toMatch(/^[0-9a-f]{64}$/);
    const tokenIssued = rows.at(-1)!;
    const [grant] = await sql<{ id: string }>(
      t.dataSource,
      `SELECT id FROM grants WHERE client_id = $1 AND user_id = $2 ORDER BY created_at DESC LIMIT 1`,
      [client.clientId, signIn.user.id],
    );
    expect(tokenIssued).toMatchObject({
      type: 'token.issued',
      subject: signIn.user.id,
      details: { grant_type: 'authorization_code', scope: res.body.scope, grant_id: grant.id },
      request_first: true,
      request_first_failure: false,
    });
    for (const row of [requested, issued, tokenIssued]) {
      expect(row.ip).toMatch(/127\.0\.0\.1|::1/);
      expect(row.request_id).toEqual(expect.any(String));
      expect(row.duration_ms).toEqual(expect.any(Number));
    }
    expect(tokenIssued.request_id).not.toBe(requested.request_id);
  });

  it('an exchange refused after its token.issued was staged: the failure is its request’s first row, nothing issued', async () => {
    const pair = pkcePair();
    const { code } = await authorize(pair);
    const before = (await eventsOf(['token.issued'])).length;
    const res = await exchangeCode(t, client, { code, verifier: pkcePair().verifier }).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(await eventsOf(['token.issued'])).toHaveLength(before);
    const failed = (await eventsOf(['token.request_failed'])).at(-1)!;
    expect(failed).toMatchObject({
      details: expect.objectContaining({ reason: 'pkce_verifier_mismatch' }),
      request_first: true,
      request_first_failure: true,
    });
  });

  it('a replayed code: its refusal and the revocation are the request’s rows, the refusal first', async () => {
    const pair = pkcePair();
    const { code } = await authorize(pair);
    await exchangeCode(t, client, { code, verifier: pair.verifier }).expect(200);
    const issuedBefore = (await eventsOf(['token.issued'])).length;
    const res = await exchangeCode(t, client, { code, verifier: pair.verifier }).expect(400);
    expect(res.body.error).toBe('invalid_grant');
    expect(await eventsOf(['token.issued'])).toHaveLength(issuedBefore);
    const failed = (await eventsOf(['token.request_failed'])).at(-1)!;
    expect(failed).toMatchObject({
      details: expect.objectContaining({ reason: 'code_replayed' }),
      request_first: true,
      request_first_failure: true,
    });
    const [revoked] = await sql<StoredEvent>(
      t.dataSource,
      `SELECT type, request_first, request_first_failure FROM audit_events
        WHERE type = 'grant.revoked' AND request_id = $1`,
      [failed.request_id],
    );
    expect(revoked).toMatchObject({ request_first: false, request_first_failure: false });
  });
});
