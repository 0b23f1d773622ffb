import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LOGIN_BUSY_MESSAGE } from '../../src/users/views/login.page';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import { CookieJar, createUser, csrfTokenOf, getWithJar, type TestUser } from '../factories/authorize';
import { createTestApp, TestApp } from '../helpers/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A login form session: the CSRF cookie and token of one GET /login (an attacker reuses one for every POST). */
async function loginForm(t: TestApp): Promise<{ cookie: string; token: string }> {
  const jar = new CookieJar();
  const page = await getWithJar(t, jar, '/login');
  return { cookie: jar.header(), token: csrfTokenOf(page.text) };
}

/** POST /login from a given loopback source address (a distinct client IP), over a connection of its own. */
function postLogin(
  t: TestApp,
  form: { cookie: string; token: string },
  credentials: { username: string; password: string },
  options: { from?: string; abandonAfterMs?: number } = {},
): Promise<Answer> {
  const body = new URLSearchParams({ _csrf: form.token, ...credentials }).toString();
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: t.port,
        path: '/login',
        method: 'POST',
        agent: false,
        localAddress: options.from ?? '127.0.0.1',
        headers: {
          cookie: form.cookie,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', (err) =>
      options.abandonAfterMs !== undefined ? resolve({ status: 0, headers: {}, body: '' }) : reject(err),
    );
    req.end(body);
    if (options.abandonAfterMs !== undefined) setTimeout(() => req.destroy(), options.abandonAfterMs);
  });
}

const randomName = () => `nobody-${randomUUID()}`;

/**
 * The bound on password checks (issue 20, finding 1): LOGIN_CONCURRENCY checks at a time, a short queue that
 * is fair between client IPs (LOGIN_QUEUE), a global budget per window (LOGIN_BUDGET), nothing hashed for a
 * client that has gone; beyond the bound an immediate 503 with Retry-After and the login page.
 */
describe('login capacity: the bound on password checks', () => {
  describe('concurrency and the fair queue', () => {
    let t: TestApp;
    let alice: TestUser;
    let audit: AuditEventRecorder;

    beforeAll(async () => {
      t = await createTestApp({ LOGIN_CONCURRENCY: '1', LOGIN_QUEUE: '4', LOGIN_BUDGET: '100000' });
      alice = await createUser(t, { username: 'alice-capacity', password: 'alice-password-1' });
      audit = recordAuditEvents(t);
    });
    afterAll(() => t.close());
    beforeEach(() => audit.clear());

    it('answers a flood of random usernames beyond the queue at once with 503, Retry-After and the login page', async () => {
      const form = await loginForm(t);
      const answers = await Promise.all(
        Array.from({ length: 16 }, () =>
          postLogin(t, form, { username: randomName(), password: 'x-password' }),
        ),
      );
      const busy = answers.filter((a) => a.status === 503);
      const checked = answers.filter((a) => a.status === 401);
      expect(busy.length).toBeGreaterThanOrEqual(8);
      expect(checked.length).toBeGreaterThanOrEqual(1);
      expect(busy.length + checked.length).toBe(16);
      for (const a of busy) {
        expect(a.headers['retry-after']).toBe('1');
        expect(a.headers['content-type']).toMatch(/^text\/html/);
        expect(a.body).toContain(LOGIN_BUSY_MESSAGE);
        expect(a.body).toMatch(/name="_csrf" value="[0-9a-f]{64}"/);
      }
      // only the checked attempts are login failures; the refusals are one request.rate_limited for the window
      expect(audit.ofType('login.failed')).toHaveLength(checked.length);
      const limited = audit.ofType('request.rate_limited');
      expect(limited).toHaveLength(1);
      expect(limited[0].details).toEqual({ route: '/login', limit: 'login_capacity' });
    });

    it("lets another IP's login through while one IP keeps the queue full", async () => {
      const form = await loginForm(t);
      const flood = Array.from({ length: 12 }, () =>
        postLogin(t, form, { username: randomName(), password: 'x-password' }, { from: '127.0.0.1' }),
      );
      await sleep(30); // the flood has filled the queue
      const mine = await loginForm(t);
      const answer = await postLogin(
        t,
        mine,
        { username: alice.username, password: alice.password },
        { from: '127.0.0.2' },
      );
      const flooded = await Promise.all(flood);
      expect(flooded.some((a) => a.status === 503)).toBe(true);
      expect(answer.status).toBe(302);
    });

    it('skips the password check of a client that disconnected while it waited', async () => {
      const form = await loginForm(t);
      // one check runs, four wait; every client hangs up after 20 ms, long before its turn
      const abandoned = Array.from({ length: 5 }, () =>
        postLogin(t, form, { username: randomName(), password: 'x-password' }, { abandonAfterMs: 20 }),
      );
      await Promise.all(abandoned);
      await sleep(1500); // every check that was going to run has run
      expect(audit.ofType('login.failed').length).toBeLessThanOrEqual(1);
      // and the server is free again
      const answer = await postLogin(t, await loginForm(t), {
        username: alice.username,
        password: alice.password,
      });
      expect(answer.status).toBe(302);
    });
  });

  describe('the global login budget', () => {
    let t: TestApp;
    let audit: AuditEventRecorder;

    beforeAll(async () => {
      t = await createTestApp({ LOGIN_BUDGET: '3', RATE_LIMIT_WINDOW: '60s' });
      audit = recordAuditEvents(t);
    });
    afterAll(() => t.close());

    it('refuses password checks beyond LOGIN_BUDGET per window with 503 and the seconds left', async () => {
      const form = await loginForm(t);
      const statuses: number[] = [];
      let last: Answer | undefined;
      for (let i = 0; i < 5; i++) {
        last = await postLogin(t, form, { username: randomName(), password: 'x-password' });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([401, 401, 401, 503, 503]);
      const retryAfter = Number(last!.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(last!.body).toContain(LOGIN_BUSY_MESSAGE);
      const limited = audit.ofType('request.rate_limited');
      expect(limited).toHaveLength(1);
      expect(limited[0].details).toEqual({ route: '/login', limit: 'login_budget' });
    });
  });
});
