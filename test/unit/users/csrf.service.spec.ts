import type { HttpReply, HttpRequest } from '../../../src/http/http';
import { CsrfService } from '../../../src/users/csrf.service';

function fakeRequest(cookies: Record<string, string> = {}, body: Record<string, unknown> = {}): HttpRequest {
  return { cookies: { ...cookies }, body } as unknown as HttpRequest;
}

function fakeResponse(): HttpReply & { set: Record<string, string> } {
  const set: Record<string, string> = {};
  return { set, setCookie: (name: string, value: string) => (set[name] = value) } as never;
}

describe('CSRF tokens (signed double-submit)', () => {
  const csrf = new CsrfService({ sessionSecret: Buffer.alloc(32, 1), secureCookies: false } as never);

  function issued(purpose: 'login' | 'consent' | 'logout' = 'login', binding = '') {
    const req = fakeRequest();
    const res = fakeResponse();
    const token = csrf.issue(req, res, purpose, binding);
    return { token, cookie: res.set.lk_csrf };
  }

  it('sets a random cookie and accepts the matching token', () => {
    const { token, cookie } = issued();
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrf.verify(fakeRequest({ lk_csrf: cookie }, { _csrf: token }), 'login')).toBe(true);
  });

  it('refuses a missing token, a missing cookie or another browser’s cookie', () => {
    const { token, cookie } = issued();
    const other = issued();
    expect(csrf.verify(fakeRequest({ lk_csrf: cookie }, {}), 'login')).toBe(false);
    expect(csrf.verify(fakeRequest({}, { _csrf: token }), 'login')).toBe(false);
    expect(csrf.verify(fakeRequest({ lk_csrf: other.cookie }, { _csrf: token }), 'login')).toBe(false);
    expect(csrf.verify(fakeRequest({ lk_csrf: cookie }, { _csrf: [token] }), 'login')).toBe(false);
  });

  it('refuses a token made for another purpose or another session', () => {
    const { token, cookie } = issued('consent', 'session-a');
    expect(csrf.verify(fakeRequest({ lk_csrf: cookie }, { _csrf: token }), 'consent', 'session-a')).toBe(
      true,
    );
    expect(csrf.verify(fakeRequest({ lk_csrf: cookie }, { _csrf: token }), 'consent', 'session-b')).toBe(
      false,
    );
    expect(csrf.verify(fakeRequest({ lk_csrf: cookie }, { _csrf: token }), 'logout', 'session-a')).toBe(
      false,
    );
  });

  it('reuses the cookie the browser already has', () => {
    const { cookie } = issued();
    const res = fakeResponse();
    csrf.issue(fakeRequest({ lk_csrf: cookie }), res, 'login');
    expect(res.set.lk_csrf).toBeUndefined();
  });
});
