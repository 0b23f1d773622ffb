import { randomBytes } from 'node:crypto';
import { sql } from '../../src/database/sql';
import { PushedRequestsRepository } from '../../src/authorization/pushed-requests.repository';
import { createClient, type TestClient } from '../factories/clients';
import { countingStatements } from '../helpers/statement-runner';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * PushedRequestsRepository (RFC 9126): the inserts, and the takes, of one turn of the event loop share a statement;
 * each request is still stored as sent, taken once, and only by its own client.
 */
describe('pushed requests on the real database', () => {
  let t: TestApp;
  let repo: PushedRequestsRepository;
  let client: TestClient;
  let other: TestClient;

  beforeAll(async () => {
    t = await createTestApp();
    repo = t.get(PushedRequestsRepository);
    client = await createClient(t);
    other = await createClient(t);
  });
  afterAll(() => t.close());

  const idHash = () => randomBytes(32).toString('hex');
  let made = 0;
  const request = (clientId = client.clientId, ttlSeconds = 60) => ({
    idHash: idHash(),
    clientId,
    params: { client_id: clientId, state: randomBytes(6).toString('hex') },
    dpopJkt: made++ % 2 === 0 ? null : randomBytes(32).toString('base64url'), // with and without a DPoP key
    ttlSeconds,
  });
  const stored = async (hash: string) =>
    (
      await sql<{ n: number }>(
        t.dataSource,
        `SELECT count(*)::int AS n FROM pushed_authorization_requests WHERE id_hash = $1`,
        [hash],
      )
    )[0].n;

  it('stores concurrent requests in one statement and takes them in one, each its own', async () => {
    const requests = [request(), request(), request(), request(other.clientId), request()];
    const inserted = await countingStatements(t, 'latchkey_push_request_', () =>
      Promise.all(requests.map((r) => repo.insert(r))),
    );
    expect(inserted.statements).toBe(1);
    const taken = await countingStatements(t, 'latchkey_take_pushed_request_', () =>
      Promise.all(requests.map((r) => repo.take(r.idHash, r.clientId))),
    );
    expect(taken.statements).toBe(1);
    expect(taken.result).toEqual(requests.map((r) => ({ params: r.params, dpop_jkt: r.dpopJkt })));
    for (const r of requests) expect(await stored(r.idHash)).toBe(0);
    // single use: a second take finds nothing
    expect(await repo.take(requests[0].idHash, client.clientId)).toBeUndefined();
  });

  it('leaves another client’s request untouched, in a batch with its own', async () => {
    const mine = request();
    const theirs = request(other.clientId);
    await Promise.all([repo.insert(mine), repo.insert(theirs)]);
    const results = await Promise.all([
      repo.take(mine.idHash, client.clientId),
      repo.take(theirs.idHash, client.clientId),
    ]);
    expect(results).toEqual([{ params: mine.params, dpop_jkt: mine.dpopJkt }, undefined]);
    expect(await stored(theirs.idHash)).toBe(1);
    expect(await repo.take(theirs.idHash, other.clientId)).toEqual({
      params: theirs.params,
      dpop_jkt: theirs.dpopJkt,
    });
  });

  it('gives a request taken twice at once to the first call only', async () => {
    const r = request();
    await repo.insert(r);
    const results = await Promise.all([
      repo.take(r.idHash, client.clientId),
      repo.take(r.idHash, client.clientId),
      repo.take(r.idHash, client.clientId),
    ]);
    expect(results).toEqual([{ params: r.params, dpop_jkt: r.dpopJkt }, undefined, undefined]);
  });

  it('does not let another client’s call in the same batch hide the request from its owner', async () => {
    const r = request();
    await repo.insert(r);
    const results = await Promise.all([
      repo.take(r.idHash, other.clientId),
      repo.take(r.idHash, client.clientId),
      repo.take(r.idHash, client.clientId),
    ]);
    expect(results).toEqual([undefined, { params: r.params, dpop_jkt: r.dpopJkt }, undefined]);
    expect(await stored(r.idHash)).toBe(0);
  });

  it('compares the client_id exactly: a longer one that starts with the owner’s takes nothing', async () => {
    const long = await createClient(t);
    const longId = `lk_${'x'.repeat(61)}`; // as long as the column allows
    await sql(t.dataSource, `UPDATE clients SET client_id = $1 WHERE client_id = $2`, [
      longId,
      long.clientId,
    ]);
    const r = request(longId);
    await repo.insert(r);
    expect(await repo.take(r.idHash, `${longId}zz`)).toBeUndefined();
    expect(await stored(r.idHash)).toBe(1);
    expect(await repo.take(r.idHash, longId)).toEqual({ params: r.params, dpop_jkt: r.dpopJkt });
  });

  it('deletes an expired request without returning it', async () => {
    const r = request(client.clientId, -1);
    await repo.insert(r);
    expect(await repo.take(r.idHash, client.clientId)).toBeUndefined();
    expect(await stored(r.idHash)).toBe(0);
  });

  it('when the database refuses the shared insert, each request runs alone: only the refused one fails', async () => {
    const good = [request(), request()];
    const orphan = request('no-such-client'); // the client's foreign key refuses it
    const results = await Promise.allSettled([
      repo.insert(good[0]),
      repo.insert(orphan),
      repo.insert(good[1]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    for (const r of good) expect(await stored(r.idHash)).toBe(1);
    expect(await stored(orphan.idHash)).toBe(0);
  });
});
