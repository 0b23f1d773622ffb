import request from 'supertest';
import { CliOperations } from '../../src/operations/cli-operations.service';
import {
  CookieJar,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  requestIdOf,
} from '../factories/authorize';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Follows the console's sign-in as a browser would: report → sign-in → authorize → login → consent → callback. */
async function signIn(
  t: TestApp,
  jar: CookieJar,
  user: { username: string; password: string },
  start = '/audit/console/report?from=2026-01-01T00:00:00Z',
) {
  const first = await getWithJar(t, jar, start);
  expect(first.status).toBe(302);
  expect(first.headers.location).toMatch(/^\/audit\/console\/sign-in\?return=/);
  const signIn = await getWithJar(t, jar, first.headers.location);
  const authorize = new URL(signIn.headers.location, t.url);
  expect(authorize.pathname).toBe('/oauth/authorize');
  expect(authorize.searchParams.get('client_id')).toBe('latchkey-audit-console');
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  const toLogin = await getWithJar(t, jar, authorize.pathname + authorize.search);
  const signedIn = await login(t, jar, user, requestIdOf(toLogin.headers.location));
  let next = signedIn.headers.location as string;
  if (next.startsWith('/consent')) {
    const consent = await getWithJar(t, jar, next);
    expect(consent.text).toContain('Latchkey audit console');
    const decided = await postFormWithJar(t, jar, '/consent', {
      _csrf: csrfTokenOf(consent.text),
      request: requestIdOf(next),
      decision: 'approve',
    });
    next = decided.headers.location;
  }
  const callback = new URL(next);
  expect(callback.origin + callback.pathname).toBe(`${t.url}/audit/callback`);
  return getWithJar(t, jar, callback.pathname + callback.search);
}

/**
 * The audit console over real HTTP: a browser asking for the security report is sent to the console, which
 * signs the user in through Latchkey's own login (the built-in client, PKCE), then requires `audit:read`.
 */
describe('audit console (the report and events in a browser)', () => {
  let t: TestApp;
  let audit: AuditEventRecorder;
  beforeAll(async () => {
    t = await createTestApp();
    audit = recordAuditEvents(t);
  });
  afterAll(async () => {
    audit.stop();
    await t.close();
  });

  const permit = (username: string, revoke = false) =>
    t.get(CliOperations).execute('user:permit', { username, permission: 'audit:read', revoke });

  it('sends a browser asking for the report or the events (no token) to the console, keeping the query', async () => {
    const report = await request(t.url)
      .get('/audit/reports/security?from=2026-01-01T00:00:00Z')
      .set('Accept', 'text/html,application/xhtml+xml,*/*;q=0.8')
      .expect(303);
    expect(report.headers.location).toBe('/audit/console/report?from=2026-01-01T00%3A00%3A00Z');
    const events = await request(t.url).get('/audit/events?format=html&type=login.failed').expect(303);
    expect(events.headers.location).toBe('/audit/console/events?type=login.failed');
    // API callers are untouched: JSON without a token is still the 401 of the contract
    await request(t.url).get('/audit/reports/security').set('Accept', 'application/json').expect(401);
    await request(t.url)
      .get('/audit/reports/security')
      .set('Accept', 'text/html')
      .set('Authorization', 'Bearer x')
      .expect(401);
  });

  it('refuses a signed-in user without audit:read (403 page, audited)', async () => {
    const user = await createUser(t, { username: 'not-an-auditor' });
    const res = await signIn(t, new CookieJar(), user);
    expect(res.status).toBe(403);
    expect(res.text).toContain('may not read the audit trail');
    expect(audit.events.some((e) => e.type === 'audit_console.access_denied' && e.subject === user.id)).toBe(
      true,
    );
  });

  it('shows the report and the events to an auditor, until the permission is revoked', async () => {
    const user = await createUser(t, { username: 'auditor' });
    await permit('auditor');
    expect(audit.events.some((e) => e.type === 'user.permission_granted' && e.subject === user.id)).toBe(
      true,
    );
    const jar = new CookieJar();
    const done = await signIn(t, jar, user);
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/audit/console/report?from=2026-01-01T00:00:00Z');
    const report = await getWithJar(t, jar, done.headers.location);
    expect(report.status).toBe(200);
    expect(report.text).toContain('<h1>Security report</h1>');
    expect(report.text).toContain('Signed in as <strong>auditor</strong>');
    expect(report.headers['cache-control']).toBe('no-store');
    expect(audit.events.find((e) => e.type === 'audit_console.signed_in')?.subject).toBe(user.id);
    expect(audit.events.find((e) => e.type === 'audit.report_generated')).toMatchObject({
      clientId: 'latchkey-audit-console',
      subject: user.id,
    });

    const events = await getWithJar(t, jar, '/audit/console/events?type=audit_console.signed_in');
    expect(events.status).toBe(200);
    expect(events.text).toContain('<code>audit_console.signed_in</code>');
    const bad = await getWithJar(t, jar, '/audit/console/events?from=yesterday');
    expect(bad.status).toBe(400);

    await permit('auditor', true);
    const after = await getWithJar(t, jar, '/audit/console/report');
    expect(after.status).toBe(403);
  });

  it('refuses a callback whose state does not match the sign-in (no cookie, or another state)', async () => {
    const jar = new CookieJar();
    await getWithJar(t, jar, '/audit/console/sign-in');
    const res = await getWithJar(
      t,
      jar,
      `/audit/callback?code=x&state=forged&iss=${encodeURIComponent(t.url)}`,
    );
    expect(res.status).toBe(400);
    expect(
      audit.events.some((e) => e.type === 'audit_console.access_denied' && e.reason === 'state_mismatch'),
    ).toBe(true);
  });

  it('never returns anywhere but the console after sign-in', async () => {
    const jar = new CookieJar();
    const res = await getWithJar(t, jar, '/audit/console/sign-in?return=https://evil.example/');
    expect(res.status).toBe(302);
    const cookie = jar.header();
    const payload = JSON.parse(
      Buffer.from(/lk_audit_flow=([^.;]+)/.exec(cookie)![1], 'base64url').toString(),
    );
    expect(payload.return).toBe('/audit/console/report');
  });
});

describe('DOCS=protected', () => {
  it('serves /docs only to a signed-in user with audit:read', async () => {
    const t = await createTestApp({ DOCS: 'protected' });
    try {
      const anonymous = await request(t.url).get('/docs-json').expect(302);
      expect(anonymous.headers.location).toBe('/audit/console/sign-in?return=%2Fdocs');
      await request(t.url).get('/docs').expect(302);
      const user = await createUser(t, { username: 'docs-reader' });
      await t
        .get(CliOperations)
        .execute('user:permit', { username: 'docs-reader', permission: 'audit:read' });
      const jar = new CookieJar();
      const done = await signIn(t, jar, user, '/docs-json');
      expect(done.headers.location).toBe('/docs');
      const doc = await getWithJar(t, jar, '/docs-json');
      expect(doc.status).toBe(200);
      expect(JSON.parse(doc.text).info.title).toBe('Latchkey');
    } finally {
      await t.close();
    }
  });
});
