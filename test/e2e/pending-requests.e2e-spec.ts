import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { STATE_MAX_LENGTH } from '../../src/authorization/authorize-request.validator';
import { sql } from '../../src/database/sql';
import { HousekeepingService } from '../../src/housekeeping/housekeeping.service';
import { recordAuditEvents } from '../factories/audit-events';
import { authorizePath } from '../factories/authorize';
import { pkcePair } from '../factories/pkce';
import { createTestApp, TestApp } from '../helpers/test-app';
import { PUBLIC_CLIENT, type TestClient, createClient } from '../factories/clients';

/**
 * What an authorization request may make the server store before anyone signs in (issue 20, finding 3): `state`
 * is at most 1 KB (longer → error redirect invalid_request, nothing stored), and expired pending requests
 * give their space back when purged, on both databases.
 */
describe('pending authorization requests: bounded storage', () => {
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    client = await createClient(t, PUBLIC_CLIENT);
  });
  afterAll(() => t.close());

  const pending = async () =>
    Number(
      (await sql<{ n: number }>(t.dataSource, `SELECT count(*)::int AS n FROM authorization_requests`))[0].n,
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

  it('stores a request whose state is at most 1 KB', async () => {
    const before = await pending();
    const res = await authorize('s'.repeat(STATE_MAX_LENGTH));
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^\/login\?request=/);
    expect(await pending()).toBe(before + 1);
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

  it('reuses the space of purged requests: further floods of the same size do not grow the table', async () => {
    const flood = async () => {
      await sql(
        t.dataSource,
        `INSERT INTO authorization_requests (id_hash, client_id, redirect_uri, scope, state, code_challenge, expires_at)
         SELECT encode(sha256(($1 || i)::bytea), 'hex'), $2, $3, 'api:read', $4, $5, now() - interval '1 second'
           FROM generate_series(1, 3000) AS i`,
        [
          randomBytes(8).toString('hex'),
          client.clientId,
          client.redirectUri,
          's'.repeat(1000),
          pkcePair().challenge,
        ],
      );
      const counts = await t.get(HousekeepingService).purgeExpired();
      expect(counts.authorization_requests).toBeGreaterThanOrEqual(3000);
    };
    const size = async () =>
      Number(
        (
          await sql<{ bytes: string }>(
            t.dataSource,
            `SELECT pg_total_relation_size('authorization_requests')::text AS bytes`,
          )
        )[0].bytes,
      );
    await flood();
    const afterFirst = await size();
    const sizes = [afterFirst];
    for (let i = 0; i < 4; i++) {
      await flood();
      sizes.push(await size());
    }
    // (the first rounds may grow the indexes: emptied index pages are recycled one VACUUM later)
    expect(sizes[4]).toBeLessThanOrEqual(sizes[2] * 1.1);
  });
});
