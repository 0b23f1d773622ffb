import { CookieJar } from '../../../src/users/cookies';

describe('cookie attributes', () => {
  it('are HttpOnly, SameSite=Lax, Path=/ and not Secure for an http issuer', () => {
    const jar = new CookieJar(false);
    expect(jar.name('lk_session')).toBe('lk_session');
    expect(jar.options(60)).toEqual({
      httpOnly: true,
      sameSite: 'lax',
      secure: false,
      path: '/',
      maxAge: 60, // seconds (Max-Age=60)
    });
  });

  it('are Secure with the __Host- prefix for an https issuer', () => {
    const jar = new CookieJar(true);
    expect(jar.name('lk_session')).toBe('__Host-lk_session');
    expect(jar.options()).toMatchObject({ httpOnly: true, sameSite: 'lax', secure: true, path: '/' });
  });
});
