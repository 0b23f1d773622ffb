import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import type { AuditEventInput } from '../../src/events/events';
import { createTestApp, TestApp } from '../helpers/test-app';
import { apiToken, auditorToken, recordAs } from '../factories/audit';

interface Finding {
  rule: string;
  severity: string;
  subject: { type: string; value: string };
  count: number;
  first_seen: string;
  last_seen: string;
  description: string;
  sample_event_ids: string[];
}

/**
 * GET /audit/reports/security over HTTP. Events are emitted through AuditEmitter as the other modules
 * do (with the request facts a real request would carry); test/e2e/audit-rules.e2e-spec.ts provokes the
 * same rules through the real OAuth endpoints.
 */
describe('security report API', () => {
  let t: TestApp;
  let token: string;
  let auditor: string;
  let report: { findings: Finding[]; [k: string]: unknown };

  const emit = (ip: string, event: AuditEventInput, requestId?: string) =>
    recordAs(t, { ip, requestId }, event);
  const times = (n: number, fn: (i: number) => Promise<void>) =>
    Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  const fail = (
    type: AuditEventInput['type'],
    reason: string,
    clientId: string | null,
    extra: Partial<AuditEventInput> = {},
  ): AuditEventInput => ({ type, outcome: 'failure', reason, clientId, ...extra });

  beforeAll(async () => {
    t = await createTestApp();
    ({ token, clientId: auditor } = await auditorToken(t));

    // some normal traffic
    await times(40, (i) =>
      emit(`10.0.0.${i % 7}`, {
        type: 'token.issued',
        outcome: 'success',
        clientId: 'web',
        details: { grant_type: 'authorization_code' },
      }),
    );
    // ip_failure_burst: 12 failures from one IP
    await times(12, () =>
      emit(
        '203.0.113.66',
        fail('token.request_failed', 'invalid_request', 'web', { errorCode: 'invalid_request' }),
      ),
    );
    // pkce_verifier_mismatch: 3 for one client from different IPs
    await times(3, (i) =>
      emit(
        `198.51.100.${i + 10}`,
        fail('token.request_failed', 'pkce_verifier_mismatch', 'spa', { errorCode: 'invalid_grant' }),
      ),
    );
    // code_replay (with the revocation of its grant)
    const replay = randomUUID();
    await emit(
      '192.0.2.30',
      fail('token.request_failed', 'code_replayed', 'web', { errorCode: 'invalid_grant' }),
      replay,
    );
    await emit(
      '192.0.2.30',
      { type: 'grant.revoked', outcome: 'success', clientId: 'web', details: { cause: 'code_replayed' } },
      replay,
    );
    // refresh_token_reuse
    await emit(
      '192.0.2.31',
      fail('token.request_failed', 'refresh_reused', 'mobile', { errorCode: 'invalid_grant' }),
    );
    // redirect_uri_probing: 3 for one client
    await times(3, (i) =>
      emit(`192.0.2.${40 + i}`, fail('authorization.rejected', 'redirect_uri_mismatch', 'shop')),
    );
    // client_enumeration: 5 unknown client ids from one IP
    await times(5, (i) =>
      emit(
        '198.51.100.99',
        fail('client.authentication_failed', 'unknown_client', `nope-${i}`, { errorCode: 'invalid_client' }),
      ),
    );
    // pkce_downgrade_attempt
    await emit(
      '192.0.2.50',
      fail('authorization.rejected', 'pkce_plain_rejected', 'legacy', { errorCode: 'invalid_request' }),
    );
    // login_bruteforce: 5 for one subject, and 10 distinct subjects from one IP
    await times(5, (i) =>
      emit(`192.0.2.${60 + i}`, fail('login.failed', 'invalid_credentials', null, { subject: 'user-carol' })),
    );
    await times(10, (i) =>
      emit('203.0.113.77', fail('login.failed', 'invalid_credentials', null, { subject: `sprayed-${i}` })),
    );
    // client_secret_guessing: 5 wrong secrets for one client
    await times(5, (i) =>
      emit(
        `192.0.2.${80 + i}`,
        fail('client.authentication_failed', 'bad_secret', 'backend', { errorCode: 'invalid_client' }),
      ),
    );
    // challenge_reuse: the same challenge in two codes
    const hash = createHash('sha256').update('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM').digest('hex');
    await times(2, () =>
      emit('10.0.0.9', {
        type: 'authorization_code.issued',
        outcome: 'success',
        clientId: 'spa',
        subject: randomUUID(),
        details: { scope: 'api:read', challenge_sha256: hash },
      }),
    );

    report = (
      await request(t.url).get('/audit/reports/security').set('Authorization', `Bearer ${token}`).expect(200)
    ).body;
  });
  afterAll(() => t.close());

  const finding = (rule: string, type: string, value: string) =>
    report.findings.find((f) => f.rule === rule && f.subject.type === type && f.subject.value === value);

  describe('JSON', () => {
    it('covers the last 24 hours by default and has the contract fields', () => {
      const from = Date.parse((report.window as { from: string }).from);
      const to = Date.parse((report.window as { to: string }).to);
      expect(to - from).toBe(86_400_000);
      expect(Math.abs(Date.now() - to)).toBeLessThan(60_000);
      expect(Object.keys(report).sort()).toEqual(
        [
          'by_type',
          'failure_rate',
          'failures',
          'findings',
          'suspicious_patterns',
          'total_requests',
          'window',
        ].sort(),
      );
    });

    it('counts requests by distinct request id and failed requests', () => {
      // 40 + 12 + 3 + 1 (replay and its revocation: one request) + 1 + 3 + 5 + 1 + 15 + 5 + 2 = 88
      expect(report.total_requests).toBe(88);
      expect(report.failures).toBe(46);
      expect(report.failure_rate).toBeCloseTo(46 / (report.total_requests as number), 3);
      expect((report.by_type as Record<string, number>)['login.failed']).toBe(15);
      expect((report.by_type as Record<string, number>)['grant.revoked']).toBe(1);
    });

    it.each([
      ['ip_failure_burst', 'ip', '203.0.113.66', 'medium'],
      ['pkce_verifier_mismatch', 'client_id', 'spa', 'high'],
      ['code_replay', 'client_id', 'web', 'critical'],
      ['refresh_token_reuse', 'client_id', 'mobile', 'critical'],
      ['redirect_uri_probing', 'client_id', 'shop', 'medium'],
      ['client_enumeration', 'ip', '198.51.100.99', 'medium'],
      ['pkce_downgrade_attempt', 'client_id', 'legacy', 'medium'],
      ['login_bruteforce', 'username', 'user-carol', 'high'],
      ['login_bruteforce', 'ip', '203.0.113.77', 'high'],
      ['client_secret_guessing', 'client_id', 'backend', 'high'],
      ['challenge_reuse', 'client_id', 'spa', 'high'],
    ])('finds %s for %s %s (%s)', (rule, type, value, severity) => {
      const f = finding(rule, type, value);
      expect(f).toBeDefined();
      expect(f!.severity).toBe(severity);
      expect(f!.sample_event_ids.length).toBeGreaterThan(0);
      expect(f!.sample_event_ids.length).toBeLessThanOrEqual(5);
      expect(Date.parse(f!.first_seen)).toBeLessThanOrEqual(Date.parse(f!.last_seen));
      expect(report.suspicious_patterns).toContain(f!.description);
    });

    it('finds the failure rate spike against an empty preceding day', () => {
      const f = report.findings.find((x) => x.rule === 'failure_rate_spike');
      expect(f).toMatchObject({ severity: 'medium', count: 46, subject: { type: 'window' } });
    });

    it('links findings to real events through their sample ids', async () => {
      const f = finding('refresh_token_reuse', 'client_id', 'mobile')!;
      const res = await request(t.url)
        .get('/audit/events')
        .query({ client_id: 'mobile', type: 'token.request_failed' })
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(res.body.items.map((e: { id: string }) => e.id)).toEqual(f.sample_event_ids);
      expect(res.body.items[0].details.reason).toBe('refresh_reused');
    });

    it('lists the most severe findings first', () => {
      const order = { critical: 0, high: 1, medium: 2, low: 3 } as Record<string, number>;
      const ranks = report.findings.map((f) => order[f.severity]);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    });

    it('reports an explicit window, to exclusive, with nothing in a quiet past window', async () => {
      const res = await request(t.url)
        .get('/audit/reports/security')
        .query({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00+00:00' })
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(res.body).toEqual({
        window: { from: '2020-01-01T00:00:00.000Z', to: '2020-01-02T00:00:00.000Z' },
        total_requests: 0,
        failures: 0,
        failure_rate: 0,
        by_type: {},
        findings: [],
        suspicious_patterns: [],
      });
    });

    it('records audit.report_generated with the window, the auditor as subject', async () => {
      const rows = await t.dataSource.query(
        `SELECT subject, details FROM audit_events WHERE type = 'audit.report_generated' ORDER BY id DESC LIMIT 1`,
      );
      expect(rows[0].subject).toBe(auditor);
      expect(rows[0].details.window).toEqual({
        from: '2020-01-01T00:00:00.000Z',
        to: '2020-01-02T00:00:00.000Z',
      });
    });
  });

  describe('bad input → 400 naming the field', () => {
    it.each([
      ['from', { from: 'last week' }],
      ['to', { to: '2025-01-01T25:00:00Z' }],
      ['to', { from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }],
      ['to', { from: '2025-01-02T00:00:00Z', to: '2025-01-02T00:00:00Z' }],
      ['from', { from: '2020-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }],
      ['format', { format: 'pdf' }],
      ['window', { window: '24h' }],
    ])('%s: %j', async (field, query) => {
      const res = await request(t.url)
        .get('/audit/reports/security')
        .query(query)
        .set('Authorization', `Bearer ${token}`)
        .expect(400);
      expect(Object.keys(res.body.fields)).toContain(field);
    });

    it('needs audit:read', async () => {
      await request(t.url).get('/audit/reports/security').expect(401);
      const admin = await apiToken(t, { scope: 'clients:write' });
      await request(t.url)
        .get('/audit/reports/security')
        .set('Authorization', `Bearer ${admin.token}`)
        .expect(403);
    });
  });

  describe('HTML for people', () => {
    let html: string;
    beforeAll(async () => {
      const res = await request(t.url)
        .get('/audit/reports/security')
        .set('Authorization', `Bearer ${token}`)
        .set('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      html = res.text;
    });

    it('shows the summary, a server-rendered SVG chart of failures and the findings table', () => {
      expect(html).toContain('<h1>Security report</h1>');
      expect(html).toMatch(/<svg[^>]*role="img"/);
      expect(html).toMatch(/<rect class="bar"/);
      expect(html).toContain('<h2 id="findings">Findings</h2>');
      for (const rule of ['code_replay', 'client_secret_guessing', 'login_bruteforce', 'challenge_reuse'])
        expect(html).toContain(`<code>${rule}</code>`);
    });

    it('escapes what callers control and ships no script', () => {
      expect(html).not.toMatch(/<script/i);
      expect(html).toContain('&#34;backend&#34;');
    });

    it('answers format=html the same way', async () => {
      const res = await request(t.url)
        .get('/audit/reports/security?format=html')
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
    });
  });
});
