import { readCookie, safeReturnTo, sessionCookie } from '@latchkey/pkce-client';

describe('safeReturnTo (no open redirect after sign-in)', () => {
  it.each(['/', '/reports', '/reports?month=11#top', '/a/b/c'])('keeps the local path %s', (path) => {
    expect(safeReturnTo(path)).toBe(path);
  });

  it.each([
    undefined,
    '',
    'https://evil.example/',
    '//evil.example',
    '/\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    'javascript:alert(1)',
    `/${'a'.repeat(2048)}`,
  ])('replaces %j with /', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });
});

describe('the session cookie', () => {
  const options = { issuer: 'https://login.example', clientId: 'c', scope: 'api:read' };

  it('is HttpOnly, SameSite=Lax, Secure for an https redirect URI, and deletable', () => {
    const https = { ...options, redirectUri: 'https://app.example/cb' };
    expect(sessionCookie(https, 'abc')).toBe(
      'latchkey_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800; Secure',
    );
    expect(sessionCookie(https, undefined)).toBe(
      'latchkey_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure',
    );
    expect(sessionCookie({ ...options, redirectUri: 'http://127.0.0.1:4000/cb' }, 'abc')).not.toContain(
      'Secure',
    );
  });

  it('is read only when it has the shape of a session id', () => {
    const req = (cookie: string) => ({ headers: { cookie }, url: '/' });
    expect(readCookie(req('a=1; latchkey_session=abc_-9; b=2'), 'latchkey_session')).toBe('abc_-9');
    expect(readCookie(req('latchkey_session=a%20b'), 'latchkey_session')).toBeUndefined();
    expect(readCookie(req('other=1'), 'latchkey_session')).toBeUndefined();
  });
});
