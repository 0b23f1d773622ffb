import request from 'supertest';
import { hmacHex, sha256Hex } from '../../src/common/crypto';
import { normalizeUsername } from '../../src/users/username';
import { recordAuditEvents, type AuditEventRecorder } from '../factories/audit-events';
import {
  CookieJar,
  createUser,
  csrfTokenOf,
  getWithJar,
  login,
  postFormWithJar,
  type TestUser,
} from '../factories/authorize';
import { createTestApp, TEST_SESSION_SECRET, TestApp } from '../helpers/test-app';

const GENERIC = 'Incorrect username or password.';
const lockoutKey = (username: string) =>
  hmacHex(Buffer.from(TEST_SESSION_SECRET, 'base64url'), normalizeUsername(username));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** End-user login, sessions, logout and the per-username lockout (LOCKOUT_BASE shortened to 2 s). */
describe('login, sessions and logout', () => {
  let t: TestApp;
  let alice: TestUser;
  let audit: AuditEventRecorder;

  beforeAll(async () => {
    t = await createTestApp({ LOCKOUT_BASE: '2s', LOCKOUT_MAX: '15m' });
    alice = await createUser(t, { username: 'Alice', password: 'alice-password-1' });
    audit = recordAuditEvents(t);
  });
  afterAll(() => t.close());
  beforeEach(() => audit.clear());

  /** Submits the login form with a fresh browser; returns the response. */
  async function attempt(username: string, password: string, jar = new CookieJar()) {
    return login(t, jar, { username, password });
  }

  /** The page without the parts that legitimately differ between two renderings (token, typed name). */
  const comparable = (html: string, username: string) =>
    html.replace(/name="_csrf" value="[^"]+"/, '').replace(`value="${username}"`, 'value=""');

  describe('the login page', () => {
    it('has labelled username and password inputs, autofocus, a CSRF token and lang', async () => {
      const res = await request(t.url).get('/login');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toContain('<html lang="en">');
      expect(res.text).toMatch(/<label for="username">/);
      expect(res.text).toMatch(/<input id="username" name="username" type="text"[^>]*autofocus/);
      expect(res.text).toMatch(/<label for="password">/);
      expect(res.text).toMatch(/<input id="password" name="password" type="password"/);
      expect(res.text).toMatch(/name="_csrf" value="[0-9a-f]{64}"/);
      expect(res.text).toContain('method="post" action="/login"');
    });

    it('sets its CSRF cookie HttpOnly, SameSite=Lax, Path=/ and not Secure for an http issuer', async () => {
      const res = await request(t.url).get('/login');
      const [cookie] = res.headers['set-cookie'] as unknown as string[];
      expect(cookie).toMatch(/^lk_csrf=[A-Za-z0-9_-]{43};/);
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Secure/i);
    });

    it('puts no security-relevant markup in from the query string', async () => {
      const res = await request(t.url).get('/login?request=%22%3E%3Cscript%3Ealert(1)%3C/script%3E');
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('<script>');
      expect(res.text).not.toContain('name="request"');
    });
  });

  describe('a failed login', () => {
    it('shows the same generic message for an unknown user and for a wrong password', async () => {
      const unknown = await attempt('nobody-here', 'whatever-password');
      const wrong = await attempt('alice', 'not-her-password');
      expect(unknown.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(unknown.text).toContain(GENERIC);
      expect(wrong.text).toContain(GENERIC);
      expect(comparable(unknown.text, 'nobody-here')).toBe(comparable(wrong.text, 'alice'));
      expect(unknown.headers['set-cookie'] ?? []).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/lk_session=/)]),
      );
    });

    it('audits login.failed with the user id for a known user and a keyed hash (never the text) for an unknown one', async () => {
      await attempt('nobody-else', 'Secret-typed-in-wrong-field');
      await attempt('ALICE', 'wrong-password');
      const [unknown, known] = audit.ofType('login.failed');
      expect(unknown).toMatchObject({
        outcome: 'failure',
        reason: 'invalid_credentials',
        subject: lockoutKey('nobody-else'),
      });
      expect(unknown.subject).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(unknown)).not.toContain('nobody-else');
      expect(JSON.stringify(audit.events)).not.toContain('Secret-typed-in-wrong-field');
      expect(known).toMatchObject({
        reason: 'invalid_credentials',
        subject: alice.id,
        details: { reason: 'invalid_credentials' },
      });
    });

    it('takes about as long for an unknown user as for a wrong password (a dummy hash is checked)', async () => {
      const time = async (username: string) => {
        const jar = new CookieJar();
        const page = await getWithJar(t, jar, '/login');
        const started = process.hrtime.bigint();
        await postFormWithJar(t, jar, '/login', {
          _csrf: csrfTokenOf(page.text),
          username,
          password: 'wrong-password',
        });
        return Number(process.hrtime.bigint() - started) / 1e6;
      };
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      await createUser(t, { username: 'timing-user', password: 'timing-password-1' });
      const unknown: number[] = [];
      const known: number[] = [];
      for (let i = 0; i < 3; i++) {
        unknown.push(await time(`ghost-${i}`));
        known.push(await time('timing-user'));
      }
      expect(audit.ofType('login.failed').map((e) => e.reason)).toEqual(Array(6).fill('invalid_credentials'));
      expect(median(unknown)).toBeGreaterThan(median(known) * 0.4);
    });

    it('refuses a form without a valid CSRF token: 403 page, login.failed csrf_failed, no session', async () => {
      const jar = new CookieJar();
      await getWithJar(t, jar, '/login');
      const res = await postFormWithJar(t, jar, '/login', {
        username: 'alice',
        password: alice.password,
        _csrf: 'f'.repeat(64),
      });
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(jar.get('lk_session')).toBeUndefined();
      expect(audit.ofType('login.failed')).toEqual([
        expect.objectContaining({
          reason: 'csrf_failed',
          subject: alice.id,
          details: { reason: 'csrf_failed' },
        }),
      ]);
      const noCookie = await request(t.url)
        .post('/login')
        .type('form')
        .send({
          username: 'alice',
          password: alice.password,
          _csrf: csrfTokenOf((await request(t.url).get('/login')).text),
        });
      expect(noCookie.status).toBe(403);
    });

    it('never reads credentials from the query string', async () => {
      const jar = new CookieJar();
      const page = await getWithJar(t, jar, '/login');
      const res = await request(t.url)
        .post(`/login?username=alice&password=${encodeURIComponent(alice.password)}`)
        .set('Cookie', jar.header())
        .type('form')
        .send({ _csrf: csrfTokenOf(page.text) })
        .redirects(0);
      expect(res.status).toBe(401);
    });
  });

  describe('a successful login', () => {
    it('is case-insensitive, audited, and sets an HttpOnly SameSite=Lax session cookie whose id is stored only hashed', async () => {
      const jar = new CookieJar();
      const page = await getWithJar(t, jar, '/login');
      const res = await request(t.url)
        .post('/login')
        .set('Cookie', jar.header())
        .type('form')
        .send({ _csrf: csrfTokenOf(page.text), username: '  ALICE ', password: alice.password })
        .redirects(0);
      expect(res.status).toBe(302);
      const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
        c.startsWith('lk_session='),
      )!;
      expect(cookie).toMatch(/; HttpOnly/);
      expect(cookie).toMatch(/; SameSite=Lax/);
      expect(cookie).toMatch(/; Path=\//);
      expect(cookie).not.toMatch(/Secure/i);
      const id = /^lk_session=([^;]+)/.exec(cookie)![1];
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const rows: Array<{ id_hash: string; user_id: string }> = await t.dataSource.query(
        `SELECT id_hash, user_id FROM sessions WHERE user_id = $1`,
        [alice.id],
      );
      expect(rows.map((r) => r.id_hash)).toContain(sha256Hex(id));
      expect(rows.map((r) => r.id_hash)).not.toContain(id);
      expect(audit.ofType('login.succeeded')).toEqual([
        expect.objectContaining({ outcome: 'success', subject: alice.id }),
      ]);
    });

    it('shows the signed-in page afterwards', async () => {
      const jar = new CookieJar();
      await login(t, jar, alice);
      const res = await getWithJar(t, jar, '/login');
      expect(res.status).toBe(200);
      expect(res.text).toContain('You are signed in');
      expect(res.text).toContain('action="/logout"');
    });

    it('rotates the session id at login: a session id the browser already had stops working', async () => {
      const other = new CookieJar();
      await login(t, other, alice);
      const planted = other.get('lk_session')!;
      const jar = new CookieJar();
      const page = await getWithJar(t, jar, '/login');
      jar.set('lk_session', planted); // e.g. fixed by an attacker before the victim signs in
      const res = await postFormWithJar(t, jar, '/login', {
        _csrf: csrfTokenOf(page.text),
        username: alice.username,
        password: alice.password,
      });
      expect(res.status).toBe(302);
      const fresh = jar.get('lk_session')!;
      expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(fresh).not.toBe(planted);
      expect(
        await t.dataSource.query(`SELECT 1 FROM sessions WHERE id_hash = $1`, [sha256Hex(planted)]),
      ).toHaveLength(0);
      const stale = await request(t.url).get('/login').set('Cookie', `lk_session=${planted}`);
      expect(stale.text).toContain('name="password"'); // the login form, not the signed-in page
      const current = await request(t.url).get('/login').set('Cookie', `lk_session=${fresh}`);
      expect(current.text).toContain('You are signed in');
    });

    it('ends a session at the idle or the absolute expiry', async () => {
      for (const column of ['idle_expires_at', 'absolute_expires_at']) {
        const jar = new CookieJar();
        await login(t, jar, alice);
        const id = jar.get('lk_session')!;
        expect((await getWithJar(t, jar, '/login')).text).toContain('You are signed in');
        await t.dataSource.query(
          `UPDATE sessions SET ${column} = now() - interval '1 second' WHERE id_hash = $1`,
          [sha256Hex(id)],
        );
        expect((await getWithJar(t, jar, '/login')).text).toContain('name="password"');
      }
    });
  });

  describe('logout', () => {
    it('ends the session, clears the cookie and audits session.ended', async () => {
      const jar = new CookieJar();
      await login(t, jar, alice);
      const id = jar.get('lk_session')!;
      const page = await getWithJar(t, jar, '/login');
      audit.clear();
      const res = await postFormWithJar(t, jar, '/logout', { _csrf: csrfTokenOf(page.text) });
      expect(res.status).toBe(200);
      expect(res.text).toContain('You are signed out');
      const cleared = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
        c.startsWith('lk_session='),
      )!;
      expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
      expect(cleared).toMatch(/; HttpOnly/);
      expect(cleared).toMatch(/; SameSite=Lax/);
      expect(
        await t.dataSource.query(`SELECT 1 FROM sessions WHERE id_hash = $1`, [sha256Hex(id)]),
      ).toHaveLength(0);
      expect(audit.ofType('session.ended')).toEqual([
        expect.objectContaining({ outcome: 'success', subject: alice.id }),
      ]);
      const after = await request(t.url).get('/login').set('Cookie', `lk_session=${id}`);
      expect(after.text).toContain('name="password"');
    });

    it('refuses a logout without the CSRF token of this session', async () => {
      const jar = new CookieJar();
      await login(t, jar, alice);
      const res = await postFormWithJar(t, jar, '/logout', { _csrf: 'x' });
      expect(res.status).toBe(403);
      expect((await getWithJar(t, jar, '/login')).text).toContain('You are signed in');
    });
  });

  describe('lockout after repeated failures', () => {
    /** `n` browsers, each with the login form open (its own cookie jar and CSRF token). */
    const loginForms = (n: number) =>
      Promise.all(
        Array.from({ length: n }, async () => {
          const jar = new CookieJar();
          const page = await getWithJar(t, jar, '/login');
          return { jar, token: csrfTokenOf(page.text) };
        }),
      );

    it('locks a username after 5 failures with the same generic message, for 2 s, then lets the right password in', async () => {
      const bob = await createUser(t, { username: 'bob', password: 'bob-password-1' });
      for (let i = 0; i < 5; i++) expect((await attempt('bob', `wrong-${i}`)).status).toBe(401);
      audit.clear();
      const locked = await attempt('bob', bob.password);
      expect(locked.status).toBe(401);
      expect(comparable(locked.text, 'bob')).toBe(
        comparable((await attempt('nobody', 'x-password')).text, 'nobody'),
      );
      expect(audit.ofType('login.failed')[0]).toMatchObject({ reason: 'locked_out', subject: bob.id });

      const [row]: Array<{ key: string; level: number; secs: number }> = await t.dataSource.query(
        `SELECT key, level, extract(epoch FROM locked_until - now())::float8 AS secs FROM lockouts WHERE kind = 'user' AND key = $1`,
        [lockoutKey('bob')],
      );
      expect(row.key).toMatch(/^[0-9a-f]{64}$/);
      expect(row.level).toBe(1);
      expect(row.secs).toBeGreaterThan(0);
      expect(row.secs).toBeLessThanOrEqual(2);

      await sleep(2100);
      const ok = await attempt('bob', bob.password);
      expect(ok.status).toBe(302);
      expect(
        await t.dataSource.query(`SELECT 1 FROM lockouts WHERE key = $1`, [lockoutKey('bob')]),
      ).toHaveLength(0);
    });

    it('doubles the lock each time, and a success resets the count', async () => {
      const carol = await createUser(t, { username: 'carol', password: 'carol-password-1' });
      for (let i = 0; i < 4; i++) await attempt('carol', 'wrong');
      expect((await attempt('carol', carol.password)).status).toBe(302); // 4 failures then success: no lock
      for (let i = 0; i < 5; i++) await attempt('carol', 'wrong');
      await sleep(2100);
      for (let i = 0; i < 5; i++) await attempt('carol', 'wrong');
      // the lock's length, measured from when it was set (under load the attempts themselves take time)
      const [row]: Array<{ level: number; length: number; secs: number }> = await t.dataSource.query(
        `SELECT level, extract(epoch FROM locked_until - updated_at)::float8 AS length,
                extract(epoch FROM locked_until - now())::float8 AS secs
           FROM lockouts WHERE key = $1`,
        [lockoutKey('carol')],
      );
      expect(row.level).toBe(2);
      expect(row.length).toBeCloseTo(4, 3);
      expect(row.secs).toBeGreaterThan(0);
      expect(row.secs).toBeLessThanOrEqual(4);
    });

    it('treats unknown usernames the same way (nothing reveals whether an account exists)', async () => {
      for (let i = 0; i < 5; i++) await attempt('Dave-Does-Not-Exist', 'wrong');
      audit.clear();
      const res = await attempt('dave-does-not-exist', 'anything');
      expect(res.status).toBe(401);
      expect(res.text).toContain(GENERIC);
      expect(audit.ofType('login.failed')[0]).toMatchObject({
        reason: 'locked_out',
        subject: lockoutKey('dave-does-not-exist'),
      });
      const rows: Array<{ key: string }> = await t.dataSource.query(`SELECT key FROM lockouts`);
      expect(JSON.stringify(rows)).not.toMatch(/dave/i);
    });

    it('lets 12 concurrent logins with the right password all in (each success resets the count)', async () => {
      const user = await createUser(t, { username: 'frank', password: 'frank-password-1' });
      audit.clear();
      const jars = await loginForms(12);
      const results = await Promise.all(
        jars.map(({ jar, token }) =>
          postFormWithJar(t, jar, '/login', { _csrf: token, username: 'frank', password: user.password }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(302));
      expect(audit.ofType('login.succeeded')).toHaveLength(12);
      expect(audit.ofType('login.failed')).toHaveLength(0);
    });

    it('lets no more than 5 concurrent guesses through before the lock', async () => {
      await createUser(t, { username: 'erin', password: 'erin-password-1' });
      audit.clear();
      const jars = await loginForms(12);
      await Promise.all(
        jars.map(({ jar, token }, i) =>
          postFormWithJar(t, jar, '/login', { _csrf: token, username: 'erin', password: `guess-${i}` }),
        ),
      );
      const reasons = audit.ofType('login.failed').map((e) => e.reason);
      expect(reasons).toHaveLength(12);
      expect(reasons.filter((r) => r === 'invalid_credentials').length).toBeLessThanOrEqual(5);
      expect(reasons.filter((r) => r === 'locked_out').length).toBeGreaterThanOrEqual(7);
    });
  });
});
