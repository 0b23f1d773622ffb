import request from 'supertest';
import { AuditEmitter } from '../../src/events/events';
import { createTestApp, TestApp } from '../helpers/test-app';
import { apiToken, auditorToken, recordAs, rowsLeaking, writeRows } from '../factories/audit';

/** GET /audit/events (docs/audit.md) and what the listener stores. */
describe('audit events API', () => {
  let t: TestApp;
  let token: string;
  let auditor: string;
  const base = Date.now() - 2 * 3600_000;

  beforeAll(async () => {
    t = await createTestApp();
    ({ token, clientId: auditor } = await auditorToken(t));
    // a small known history, two hours ago, one event a minute apart (oldest first)
    await writeRows(
      t,
      Array.from({ length: 12 }, (_, i) => ({
        occurredAt: new Date(base + i * 60_000),
        type: i % 3 === 0 ? ('login.failed' as const) : ('token.issued' as const),
        outcome: i % 3 === 0 ? ('failure' as const) : ('success' as const),
        reason: i % 3 === 0 ? 'invalid_credentials' : null,
        clientId: i % 2 === 0 ? 'app-even' : 'app-odd',
        ip: i < 6 ? '198.51.100.7' : '2001:db8::7',
        subject: `user-${i}`,
        details: { seq: i },
      })),
    );
  });
  afterAll(() => t.close());

  const get = (query: Record<string, string | number> = {}) =>
    request(t.url).get('/audit/events').query(query).set('Authorization', `Bearer ${token}`);
  const historyWindow = () => ({
    from: new Date(Date.now() - 3 * 3600_000).toISOString(),
    to: new Date(Date.now() - 3600_000).toISOString(),
  });

  describe('access', () => {
    it('refuses a request without a bearer token (401, WWW-Authenticate: Bearer)', async () => {
      const res = await request(t.url).get('/audit/events').expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    });

    it('refuses a token without audit:read (403 insufficient_scope)', async () => {
      const other = await apiToken(t, { scope: 'clients:read' });
      const res = await request(t.url)
        .get('/audit/events')
        .set('Authorization', `Bearer ${other.token}`)
        .expect(403);
      expect(res.body.error).toBe('insufficient_scope');
    });

    it('refuses a token whose grant was revoked', async () => {
      const revoked = await auditorToken(t);
      await t.dataSource.query(`UPDATE grants SET revoked_at = now() WHERE id = $1`, [revoked.grantId]);
      await request(t.url).get('/audit/events').set('Authorization', `Bearer ${revoked.token}`).expect(401);
    });
  });

  describe('JSON pages', () => {
    it('returns the contract fields, newest first, with no-store caching', async () => {
      const res = await get({ ...historyWindow(), limit: 100 }).expect(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.next_cursor).toBeNull();
      const items = res.body.items;
      expect(items).toHaveLength(12);
      expect(Object.keys(items[0]).sort()).toEqual(
        [
          'id',
          'occurred_at',
          'type',
          'outcome',
          'error_code',
          'client_id',
          'subject',
          'ip',
          'user_agent',
          'duration_ms',
          'request_id',
          'details',
        ].sort(),
      );
      expect(typeof items[0].id).toBe('string');
      expect(items.map((e: { details: { seq: number } }) => e.details.seq)).toEqual([
        11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
      ]);
      expect(items[11]).toMatchObject({
        type: 'login.failed',
        outcome: 'failure',
        client_id: 'app-even',
        ip: '198.51.100.7',
        subject: 'user-0',
        details: { seq: 0, reason: 'invalid_credentials' },
      });
    });

    it('walks every event exactly once with the cursor', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: request.Response = await get({
          ...historyWindow(),
          limit: 5,
          ...(cursor ? { cursor } : {}),
        }).expect(200);
        seen.push(...res.body.items.map((e: { details: { seq: number } }) => e.details.seq));
        cursor = res.body.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    });

    it('filters by type, outcome, client_id, ip (address or CIDR) and time (to exclusive)', async () => {
      const w = historyWindow();
      const seqs = async (q: Record<string, string>) =>
        (await get({ ...w, limit: 100, ...q }).expect(200)).body.items.map(
          (e: { details: { seq: number } }) => e.details.seq,
        );
      expect(await seqs({ type: 'login.failed' })).toEqual([9, 6, 3, 0]);
      expect(await seqs({ outcome: 'failure', client_id: 'app-even' })).toEqual([6, 0]);
      expect(await seqs({ ip: '2001:db8::7' })).toEqual([11, 10, 9, 8, 7, 6]);
      expect(await seqs({ ip: '198.51.100.0/24' })).toEqual([5, 4, 3, 2, 1, 0]);
      // the events were written at base + i minutes: [base + 2 min, base + 4 min) holds 2 and 3
      const from = new Date(base + 2 * 60_000).toISOString();
      const to = new Date(base + 4 * 60_000).toISOString();
      expect(
        (await get({ from, to }).expect(200)).body.items.map(
          (e: { details: { seq: number } }) => e.details.seq,
        ),
      ).toEqual([3, 2]);
    });
  });

  describe('bad input → 400 naming the field', () => {
    it.each([
      ['from', { from: 'yesterday' }],
      ['from', { from: '2025-02-30T00:00:00Z' }],
      ['to', { to: '2025-01-01' }],
      ['to', { from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }],
      ['limit', { limit: 0 }],
      ['limit', { limit: 1001 }],
      ['limit', { limit: 'ten' }],
      ['cursor', { cursor: 'bm90LWEtY3Vyc29y' }],
      ['cursor', { cursor: '!!' }],
      ['type', { type: 'nope.happened' }],
      ['outcome', { outcome: 'maybe' }],
      ['ip', { ip: '300.1.2.3' }],
      ['ip', { ip: '10.0.0.0/33' }],
      ['format', { format: 'xml' }],
      ['colour', { colour: 'blue' }],
    ])('%s: %j', async (field, query) => {
      const res = await get(query as Record<string, string>).expect(400);
      expect(Object.keys(res.body.fields)).toContain(field);
      expect(JSON.stringify(res.body.message)).toContain(field);
    });

    it('refuses a repeated parameter', async () => {
      const res = await request(t.url)
        .get('/audit/events?type=login.failed&type=token.issued')
        .set('Authorization', `Bearer ${token}`)
        .expect(400);
      expect(Object.keys(res.body.fields)).toEqual(['type']);
    });
  });

  describe('CSV', () => {
    const parse = (text: string) => text.trim().split('\r\n');

    it('streams CSV for Accept: text/csv, with a header row and every matching event', async () => {
      const res = await get({ ...historyWindow() })
        .set('Accept', 'text/csv')
        .buffer(true)
        .parse((r, cb) => {
          let data = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (data += c));
          r.on('end', () => cb(null, data));
        })
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const lines = parse(res.body as string);
      expect(lines[0]).toBe(
        'id,occurred_at,type,outcome,error_code,client_id,subject,ip,user_agent,duration_ms,request_id,details',
      );
      expect(lines).toHaveLength(13);
      expect(lines[1]).toContain('token.issued');
      expect(lines[1]).toContain('"{""seq"":11}"');
    });

    it('answers format=csv the same way and honours an explicit limit', async () => {
      const res = await get({ ...historyWindow(), format: 'csv', limit: 3 }).expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(parse(res.text)).toHaveLength(4);
    });

    it('neutralises spreadsheet formulas in caller-controlled cells', async () => {
      await recordAs(
        t,
        { ip: '192.0.2.44', userAgent: '=HYPERLINK("http://evil.example")' },
        {
          type: 'api.access_denied',
          outcome: 'failure',
          clientId: '+SUM(A1:A9)',
          reason: 'invalid_token',
        },
      );
      const res = await get({ format: 'csv', ip: '192.0.2.44' }).expect(200);
      expect(res.text).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
      expect(res.text).toContain(`'+SUM(A1:A9)`);
    });
  });

  describe('what is stored', () => {
    it('stores request facts and the reason in its column and in details', async () => {
      await recordAs(
        t,
        { ip: '203.0.113.9', userAgent: 'curl/8', requestId: 'req-facts-1' },
        {
          type: 'token.request_failed',
          outcome: 'failure',
          errorCode: 'invalid_grant',
          reason: 'pkce_verifier_mismatch',
          clientId: 'facts-client',
          details: { grant_type: 'authorization_code' },
        },
      );
      const res = await get({ client_id: 'facts-client' }).expect(200);
      expect(res.body.items[0]).toMatchObject({
        type: 'token.request_failed',
        outcome: 'failure',
        error_code: 'invalid_grant',
        client_id: 'facts-client',
        ip: '203.0.113.9',
        user_agent: 'curl/8',
        request_id: 'req-facts-1',
        details: { grant_type: 'authorization_code', reason: 'pkce_verifier_mismatch' },
      });
      const [row] = await t.dataSource.query(
        `SELECT reason FROM audit_events WHERE request_id = 'req-facts-1'`,
      );
      expect(row.reason).toBe('pkce_verifier_mismatch');
    });

    it('drops secret-named details wherever they are, and keeps the facts', async () => {
      const secrets = {
        code: 'CODE-9f8e7d6c5b4a',
        code_verifier: 'VERIFIER-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
        password: 'hunter2-password-xyz',
        client_secret: 'CLIENT-SECRET-5544332211',
        refresh_token: 'REFRESH-TOKEN-00998877',
        access_token: 'ACCESS-TOKEN-11223344',
        token: 'BARE-TOKEN-66778899',
        secret: 'BARE-SECRET-13579',
      };
      await recordAs(
        t,
        { ip: '203.0.113.10', requestId: 'req-secrets-1' },
        {
          type: 'token.request_failed',
          outcome: 'failure',
          reason: 'invalid_request',
          clientId: 'leaky-client',
          details: {
            ...secrets,
            grant_type: 'authorization_code',
            nested: { Password: 'NESTED-PASSWORD-24680', list: [{ refresh_token: 'LISTED-REFRESH-97531' }] },
          } as Record<string, unknown>,
        },
      );
      const [row] = await t.dataSource.query(
        `SELECT details FROM audit_events WHERE request_id = 'req-secrets-1'`,
      );
      expect(row.details).toEqual({
        grant_type: 'authorization_code',
        nested: { list: [{}] },
        reason: 'invalid_request',
      });
      expect(
        await rowsLeaking(t, [...Object.values(secrets), 'NESTED-PASSWORD-24680', 'LISTED-REFRESH-97531']),
      ).toEqual([]);
    });

    it('stores a junk IP as null and strips characters PostgreSQL cannot store', async () => {
      await t.get(AuditEmitter).record({
        type: 'client.authentication_failed',
        outcome: 'failure',
        reason: 'unknown_client',
        clientId: 'nul\u0000client\ud800',
        details: { note: 'a\u0000b' },
      });
      const [row] = await t.dataSource.query(
        `SELECT client_id, ip, details FROM audit_events WHERE client_id LIKE 'nulclient%'`,
      );
      expect(row).toEqual({
        client_id: 'nulclient\ufffd',
        ip: null,
        details: { note: 'ab', reason: 'unknown_client' },
      });
    });
  });

  describe("auditors' own access is audited", () => {
    it('records audit.queried with the filters, the auditor as subject', async () => {
      await get({ type: 'login.failed', limit: 7 }).expect(200);
      const [row] = await t.dataSource.query(
        `SELECT subject, client_id, details FROM audit_events
          WHERE type = 'audit.queried' ORDER BY occurred_at DESC, id DESC LIMIT 1`,
      );
      expect(row.subject).toBe(auditor);
      expect(row.client_id).toBe(auditor);
      expect(row.details.filters).toMatchObject({ type: 'login.failed', limit: 7, page: 'first' });
    });
  });
});
