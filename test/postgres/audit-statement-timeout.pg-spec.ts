import request from 'supertest';
import { auditorToken, writeRows } from '../factories/audit';
import { createTestApp, TestApp } from '../helpers/test-app';

/**
 * Issue 20, finding 5: a security report's statements run under AUDIT_STATEMENT_TIMEOUT_MS on PostgreSQL (PGlite
 * cannot cancel a running statement, so this file runs on PostgreSQL only); a cancelled report is a 503 that says
 * what to do, never a 500, and the server is unaffected.
 */
describe('security report statement timeout (PostgreSQL)', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp({ AUDIT_STATEMENT_TIMEOUT_MS: '1' });
    ({ token } = await auditorToken(t));
    await writeRows(
      t,
      Array.from({ length: 3000 }, (_, i) => ({
        type: 'login.failed' as const,
        outcome: 'failure' as const,
        reason: 'invalid_credentials',
        subject: `s${i}`,
        ip: `10.1.${i % 250}.${i % 200}`,
      })),
    );
  });
  afterAll(() => t.close());

  it('cancels the report and answers 503 with Retry-After and what to do', async () => {
    const res = await request(t.url).get('/audit/reports/security').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.body.message[0]).toMatch(/AUDIT_STATEMENT_TIMEOUT_MS/);
    // the server is fine afterwards
    expect((await request(t.url).get('/health/ready')).status).toBe(200);
  });
});
