import request from 'supertest';
import { ClientsService } from '../../src/clients/clients.service';
import { sql } from '../../src/database/sql';
import { adminCaller, buildClient } from '../factories/clients';
import { createTestApp, TestApp } from '../helpers/test-app';

describe('client secret rotation with CLIENT_SECRET_ROTATION_OVERLAP=60s', () => {
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof adminCaller>>;

  beforeAll(async () => {
    t = await createTestApp({ CLIENT_SECRET_ROTATION_OVERLAP: '60s' });
    admin = await adminCaller(t);
  });
  afterAll(() => t.close());

  const create = async () =>
    (
      await request(t.url)
        .post('/admin/clients')
        .set('Authorization', `Bearer ${admin.token}`)
        .send(buildClient())
        .expect(201)
    ).body as { client_id: string; client_secret: string };
  const rotate = (clientId: string) =>
    request(t.url).post(`/admin/clients/${clientId}/secret`).set('Authorization', `Bearer ${admin.token}`);
  const matches = async (clientId: string, secret: string) =>
    (await t.get(ClientsService).findEnabled(clientId))?.secretMatches(secret) ?? false;

  it('keeps the previous secret valid during the overlap, next to the new one', async () => {
    const client = await create();
    const { client_secret: next } = (await rotate(client.client_id).expect(200)).body;
    expect(await matches(client.client_id, next)).toBe(true);
    expect(await matches(client.client_id, client.client_secret)).toBe(true);
    expect(await matches(client.client_id, 'something else')).toBe(false);
    const [row] = await sql<{ seconds: number }>(
      t.dataSource,
      `SELECT extract(epoch FROM previous_secret_expires_at - now())::int AS seconds FROM clients WHERE client_id = $1`,
      [client.client_id],
    );
    expect(row.seconds).toBeGreaterThan(50);
    expect(row.seconds).toBeLessThanOrEqual(60);
  });

  it('stops accepting the previous secret once the overlap has passed', async () => {
    const client = await create();
    const { client_secret: next } = (await rotate(client.client_id).expect(200)).body;
    await sql(
      t.dataSource,
      `UPDATE clients SET previous_secret_expires_at = now() - interval '1 second' WHERE client_id = $1`,
      [client.client_id],
    );
    expect(await matches(client.client_id, client.client_secret)).toBe(false);
    expect(await matches(client.client_id, next)).toBe(true);
  });

  it('keeps only the one previous secret: a second rotation retires the original', async () => {
    const client = await create();
    const { client_secret: second } = (await rotate(client.client_id).expect(200)).body;
    const { client_secret: third } = (await rotate(client.client_id).expect(200)).body;
    expect(await matches(client.client_id, client.client_secret)).toBe(false);
    expect(await matches(client.client_id, second)).toBe(true);
    expect(await matches(client.client_id, third)).toBe(true);
  });

  it('concurrent rotations leave one current and one previous secret, consistently', async () => {
    const client = await create();
    const results = await Promise.all(Array.from({ length: 6 }, () => rotate(client.client_id)));
    for (const r of results) expect(r.status).toBe(200);
    const secrets = [client.client_secret, ...results.map((r) => r.body.client_secret as string)];
    const valid: string[] = [];
    for (const s of secrets) if (await matches(client.client_id, s)) valid.push(s);
    expect(valid).toHaveLength(2);
    // the previous hash is exactly the one the current secret replaced: the rotations were serialised
    const [row] = await sql<{ secret_hash: string; previous_secret_hash: string }>(
      t.dataSource,
      `SELECT secret_hash, previous_secret_hash FROM clients WHERE client_id = $1`,
      [client.client_id],
    );
    expect(row.previous_secret_hash).not.toBe(row.secret_hash);
    expect(row.previous_secret_hash).not.toBeNull();
  });
});
