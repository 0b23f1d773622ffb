import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { STATE_MAX_LENGTH } from '../../src/authorization/authorize-request.validator';
import { sql } from '../../src/database/sql';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { recordAuditEvents } from '../factories/audit-events';
import { authorizePath } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { AUTHORIZE_AUDIT_INDIVIDUAL } from '../../src/authorization/authorize.controller';
import { RefusalAuditor } from '../../src/events/refusal-auditor';
import { closeAddressAgents, requestFrom } from '../helpers/from-address';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, type TestClient, createClient } from '../factories/clients';

/**
 * What an authorization request may make the server store before anyone signs in (issue 20, finding 3): nothing
 * — the request travels sealed through the login page; `state` is at most 1 KB (longer → error redirect
 * invalid_request); and the rows that mark used requests give their space back when purged, on both databases.
 */
describe('pending authorization requests: bounded storage', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t, PUBLIC_CLIENT);
  });
  afterAll(async () => {
    closeAddressAgents();
    await t.close();
  });

  const pending = async () =>
    Number(
      (await sql<{ n: number }>(t.dataSource, `SELECT count(*)::int AS n FROM authorization_requests`))[0].n,
    );
  /** rows of every table but the audit trail's */
  const auditlessSize = async () =>
    Number(
      (
        await sql<{ n: string }>(
          t.dataSource,
          `SELECT (SELECT count(*) FROM authorization_requests) + (SELECT count(*) FROM authorization_codes)
                + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM pushed_authorization_requests) AS n`,
        )
      )[0].n,
    );
  const authorize = (state: string) =>
    request(t.url)
      .get(
        authorizePath({
          client_id: client.clientId,
          redirect_uri: client.redirectUri,
          code_challenge: pkcePair().challenge,
          state,
        }),
      )
      .redirects(0);

  it('stores nothing for a request that waits for login, even with a 1 KB state', async () => {
    const before = await pending();
    const sizeBefore = await auditlessSize();
    for (let i = 0; i < 20; i++) {
      const res = await authorize('s'.repeat(STATE_MAX_LENGTH));
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login\?request=[A-Za-z0-9_-]+$/);
      // sealed: the state does not appear in the login page's URL
      expect(res.headers.location).not.toContain('s'.repeat(32));
    }
    expect(await pending()).toBe(before);
    expect(await auditlessSize()).toBe(sizeBefore);
  });

  it('answers a longer state with an invalid_request error redirect, stores nothing and does not echo it', async () => {
    const audit = recordAuditEvents(t);
    const before = await pending();
    const res = await authorize('s'.repeat(8 * 1024));
    audit.stop();
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location);
    expect(`${location.origin}${location.pathname}`).toBe(client.redirectUri);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('error_description')).toBe('state is longer than 1024 characters');
    expect(location.searchParams.has('state')).toBe(false);
    expect(location.searchParams.get('iss')).toBe(t.url);
    expect(await pending()).toBe(before);
    expect(audit.ofType('authorization.rejected').map((e) => e.reason)).toEqual(['invalid_request']);
  });

  it('reuses the space of purged rows (used requests): further rounds of the same size do not grow the table', async () => {
    /** the table's heap, or the table with its indexes */
    const sizeOf = async (measure: 'pg_relation_size' | 'pg_total_relation_size') =>
      Number(
        (
          await sql<{ bytes: string }>(
            t.dataSource,
            `SELECT ${measure}('authorization_requests')::text AS bytes`,
          )
        )[0].bytes,
      );
    /** one round: 3,000 used requests, then the purge; returns the heap's size while they were there */
    const flood = async () => {
      await sql(
        t.dataSource,
        `INSERT INTO authorization_requests (id_hash, expires_at)
         SELECT encode(sha256(($1 || i)::bytea), 'hex'), now() - interval '1 second'
           FROM generate_series(1, 3000) AS i`,
        [randomBytes(8).toString('hex')],
      );
      const heap = await sizeOf('pg_relation_size');
      const counts = await t.get(HousekeepingService).purgeExpired();
      expect(counts.authorization_requests).toBeGreaterThanOrEqual(3000);
      return heap;
    };
    const firstHeap = await flood();
    // Without reuse the table grows by the first round's size every round (~0.8 MB with its index). With it,
    // a round's rows fit in the first round's heap (the VACUUM after the purge frees its dead rows), and the
    // index settles after the second round: emptied index pages are recycled one VACUUM later, once no
    // transaction anywhere in the cluster is older than their deletion (so other sessions — the suite's other
    // workers on PostgreSQL — can delay it by a few rounds, never prevent it). Rounds go on until the total size
    // has not changed for four rounds, within 20 s.
    const totals = [await sizeOf('pg_total_relation_size')];
    const lastFive = () => totals.slice(-5);
    const settled = () => totals.length >= 5 && lastFive().every((v) => v === totals[totals.length - 1]);
    const deadline = Date.now() + 20_000;
    while (!settled() && Date.now() < deadline) {
      // a round's rows never need more heap than the first round's (8 kB: a page of slack)
      expect(await flood()).toBeLessThanOrEqual(firstHeap + 8192);
      totals.push(await sizeOf('pg_total_relation_size'));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(lastFive()).toEqual(Array(5).fill(totals[totals.length - 1]));
  });

  it('audits requests before sign-in one row each up to a bound per client, IP and window, then with a count', async () => {
    const ip = '127.0.0.21';
    const n = AUTHORIZE_AUDIT_INDIVIDUAL + 4;
    for (let i = 0; i < n; i++) {
      const res = await requestFrom(ip, t.url, {
        path: authorizePath({
          client_id: client.clientId,
          redirect_uri: client.redirectUri,
          code_challenge: pkcePair().challenge,
          state: `s${i}`,
        }),
      });
      expect(res.status).toBe(302);
    }
    const rows = async () =>
      sql<{ details: Record<string, unknown> }>(
        t.dataSource,
        `SELECT details FROM audit_events WHERE type = 'authorization.requested' AND host(ip) = $1
          ORDER BY occurred_at, id`,
        [ip],
      );
    const written = await rows();
    // (a window may end during the loop: then the next one starts again with rows of their own)
    const individual = written.filter((r) => r.details.aggregate_id === undefined);
    const aggregated = written.filter((r) => r.details.aggregate_id !== undefined);
    expect(individual.length).toBeGreaterThanOrEqual(AUTHORIZE_AUDIT_INDIVIDUAL);
    for (const r of individual) expect(r.details).toEqual({ scope: 'api:read api:write' });
    expect(aggregated.length).toBeLessThanOrEqual(1);
    await t.get(RefusalAuditor).sweep(Number.POSITIVE_INFINITY); // the window's end
    const counted = (await rows()).reduce(
      (sum, r) => sum + (r.details.aggregate_id === undefined ? 1 : Number(r.details.count)),
      0,
    );
    expect(counted).toBe(n);
    if (aggregated.length) expect(individual).toHaveLength(AUTHORIZE_AUDIT_INDIVIDUAL);
  });
});
