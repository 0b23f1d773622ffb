import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Pool } from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { sql } from '../../src/database/sql';
import { AccessTokenVerifier } from '../../src/keys/access-token.verifier';
import { OwnPostgresCluster } from '../helpers/pg-cluster';
import { createTestApp, TestApp } from '../helpers/test-app';
import { basicAuth, TOKEN_TEST_ENV } from '../factories/tokens';
import { type TestClient, createClient } from '../factories/clients';

jest.setTimeout(120_000);

/**
 * Issue 8 §5: PostgreSQL stops under load. The process must answer 503 temporarily_unavailable (never crash,
 * never hang), report not ready, recover by itself when the database is back, and every request that got a
 * success must have its token state and its audit event committed.
 */
describe('database outage on PostgreSQL', () => {
  const cluster = new OwnPostgresCluster();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-outage-'));
  let t: TestApp;
  let client: TestClient;

  beforeAll(async () => {
    cluster.start();
    t = await createTestApp(TOKEN_TEST_ENV, {
      database: {
        url: cluster.url,
        dataDir,
        kind: 'postgres',
        drop: async () => undefined,
      },
    });
    client = await createClient(t, { grantTypes: ['client_credentials'], scope: 'api:read' });
  });
  afterAll(async () => {
    await t?.close();
    cluster.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tokenRequest = () =>
    request(t.url)
      .post('/oauth/token')
      .set('Authorization', basicAuth(client.clientId, client.clientSecret!))
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'api:read' })
      .timeout(15_000);

  it('gives every pooled connection an error listener (a dying connection never throws in the process)', async () => {
    const pool = (t.dataSource.driver as unknown as { master: Pool }).master;
    const client = await pool.connect(); // checked out: the pool's own idle listener is gone
    try {
      expect(() => client.emit('error', new Error('connection lost (simulated)'))).not.toThrow();
    } finally {
      client.release(new Error('discard this client'));
    }
  });

  it('answers 503, stays up, recovers without a restart and loses no committed success', async () => {
    expect((await tokenRequest()).status).toBe(200);

    const successes: string[] = [];
    const statuses: number[] = [];
    let stop = false;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const res = await tokenRequest();
        statuses.push(res.status);
        if (res.status === 200) successes.push(res.body.access_token);
        else {
          expect(res.status).toBe(503);
          expect(res.body.error).toBe('temporarily_unavailable');
          expect(res.headers['retry-after']).toBeDefined();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    cluster.stopServer();
    await new Promise((r) => setTimeout(r, 1500));

    const ready = await request(t.url).get('/health/ready').timeout(15_000);
    expect(ready.status).toBe(503);
    const duringOutage = await tokenRequest();
    expect(duringOutage.status).toBe(503);
    expect(duringOutage.body).toMatchObject({ error: 'temporarily_unavailable' });
    expect(duringOutage.headers['cache-control']).toBe('no-store');

    cluster.startServer();
    let recovered = false;
    for (let i = 0; i < 60 && !recovered; i++) {
      recovered = (await request(t.url).get('/health/ready')).status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(load);
    expect((await tokenRequest()).status).toBe(200);

    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(successes.length).toBeGreaterThan(2);

    // every success: its grant is committed, and its token.issued event too
    const verifier = t.get(AccessTokenVerifier);
    for (const token of successes) {
      const claims = await verifier.verify(token);
      expect(claims).not.toBeNull();
      const events = await sql(
        t.dataSource,
        `SELECT 1 FROM audit_events WHERE type = 'token.issued' AND details->>'grant_id' = $1`,
        [claims!.gid],
      );
      expect(events).toHaveLength(1);
    }
  });
});
