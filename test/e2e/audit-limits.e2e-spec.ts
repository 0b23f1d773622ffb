import request from 'supertest';
import { recordAuditEvents } from '../factories/audit-events';
import { auditorToken, writeRows } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

const DAY = 86_400_000;
const cursorFor = (t: string, i = '1') => Buffer.from(JSON.stringify({ t, i })).toString('base64url');

/**
 * What an auditor's request may cost (issue 20, findings 5 and 7): reports and CSV exports are bounded in number
 * (AUDIT_QUERY_CONCURRENCY, 429 beyond) and in window (AUDIT_REPORT_MAX_WINDOW; the statement timeout,
 * PostgreSQL only: test/postgres/audit-statement-timeout.pg-spec.ts); dates and cursors outside the years 1970–9999 are a 400 naming the field.
 */
describe('audit API limits', () => {
  describe('with the default settings but one report or export at a time', () => {
    let t: TestApp;
    let token: string;

    beforeAll(async () => {
      t = await createTestApp({ AUDIT_QUERY_CONCURRENCY: '1' });
      ({ token } = await auditorToken(t));
      const now = Date.now();
      await writeRows(
        t,
        Array.from({ length: 400 }, (_, i) => ({
          type: 'token.request_failed' as const,
          outcome: 'failure' as const,
          reason: 'pkce_verifier_mismatch',
          clientId: `c${i % 9}`,
          ip: `10.0.${i % 3}.${i % 200}`,
          occurredAt: new Date(now - (i % 20) * 3600_000),
        })),
      );
    });
    afterAll(() => t.close());

    const report = () =>
      request(t.url).get('/audit/reports/security').set('Authorization', `Bearer ${token}`);
    const csv = () => request(t.url).get('/audit/events?format=csv').set('Authorization', `Bearer ${token}`);

    it('refuses a report or export beyond AUDIT_QUERY_CONCURRENCY at once with 429 and Retry-After, and audits it', async () => {
      const audit = recordAuditEvents(t);
      const answers = await Promise.all([report(), csv(), report(), csv(), report()]);
      audit.stop();
      const statuses = answers.map((a) => a.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(429);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
      for (const a of answers.filter((x) => x.status === 429)) {
        expect(a.headers['retry-after']).toBe('5');
        expect(a.body.message[0]).toMatch(/at most 1 security reports and CSV exports run at once/);
      }
      const limited = audit.ofType('request.rate_limited');
      expect(limited.length).toBe(statuses.filter((s) => s === 429).length);
      expect(limited[0].details).toMatchObject({ limit: 'audit_concurrency' });
      // and once they are done, the next one runs
      expect((await report()).status).toBe(200);
    });

    it('caps the report window at AUDIT_REPORT_MAX_WINDOW (31 days by default) with a 400 naming from', async () => {
      const to = new Date();
      const ok = await report().query({
        from: new Date(to.getTime() - 31 * DAY).toISOString(),
        to: to.toISOString(),
      });
      expect(ok.status).toBe(200);
      const res = await report().query({
        from: new Date(to.getTime() - 32 * DAY).toISOString(),
        to: to.toISOString(),
      });
      expect(res.status).toBe(400);
      expect(res.body.fields.from[0]).toMatch(/at most 31 days/);
    });

    it.each([
      ['from', '0000-01-01T00:00:00Z'],
      ['to', '9999-12-31T23:59:60Z'],
      ['from', '1969-12-31T23:59:59Z'],
      ['to', '1970-01-01T00:30:00+01:00'],
    ])('answers %s=%s outside the years 1970–9999 with 400 naming the field', async (field, value) => {
      for (const path of ['/audit/events', '/audit/reports/security']) {
        const res = await request(t.url)
          .get(path)
          .query({ [field]: value })
          .set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(400);
        expect(res.body.fields[field][0]).toMatch(/between the years 1970 and 9999/);
      }
    });

    it('accepts the extreme dates inside the range', async () => {
      const res = await request(t.url)
        .get('/audit/events')
        .query({ from: '1970-01-01T00:00:00Z', to: '9999-12-31T23:59:59Z' })
        .set('Authorization', `Bearer ${token}`);
      expect(res.status).toBe(200);
    });

    it.each(['0000-01-01T00:00:00.000000Z', '9999-12-31T23:59:60.000000Z'])(
      'answers a forged cursor at %s with 400 naming cursor',
      async (position) => {
        const res = await request(t.url)
          .get('/audit/events')
          .query({ cursor: cursorFor(position) })
          .set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(400);
        expect(Object.keys(res.body.fields)).toEqual(['cursor']);
      },
    );
  });
});
