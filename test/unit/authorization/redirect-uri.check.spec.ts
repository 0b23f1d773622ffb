import { checkRedirectUri, redirectUriMatches } from '../../../src/authorization/checks/redirect-uri.check';

describe('redirect_uri: exact match, loopback port exception (RFC 8252 §7.3)', () => {
  const web = ['https://app.example.com/callback'];

  it('accepts an exactly registered URI', () => {
    expect(redirectUriMatches(web, 'https://app.example.com/callback')).toBe(true);
  });

  it.each([
    ['a trailing slash', 'https://app.example.com/callback/'],
    ['another case', 'https://APP.example.com/callback'],
    ['an added query', 'https://app.example.com/callback?x=1'],
    ['a fragment', 'https://app.example.com/callback#x'],
    ['another scheme', 'http://app.example.com/callback'],
    ['an explicit default port', 'https://app.example.com:443/callback'],
    ['a prefix', 'https://app.example.com/call'],
    ['a longer path', 'https://app.example.com/callback/evil'],
    ['a userinfo trick', 'https://app.example.com@evil.example/callback'],
    ['percent-encoding', 'https://app.example.com/%63allback'],
  ])('refuses %s', (_name, sent) => {
    expect(redirectUriMatches(web, sent)).toBe(false);
  });

  it('lets only the port differ for a registered 127.0.0.1 URI', () => {
    const reg = ['http://127.0.0.1:8080/cb'];
    expect(redirectUriMatches(reg, 'http://127.0.0.1:51234/cb')).toBe(true);
    expect(redirectUriMatches(reg, 'http://127.0.0.1/cb')).toBe(true);
    expect(redirectUriMatches(reg, 'http://127.0.0.1:51234/cb2')).toBe(false);
    expect(redirectUriMatches(reg, 'http://127.0.0.1:51234/cb?x=1')).toBe(false);
    expect(redirectUriMatches(reg, 'http://[::1]:51234/cb')).toBe(false);
    expect(redirectUriMatches(reg, 'http://localhost:8080/cb')).toBe(false);
    expect(redirectUriMatches(reg, 'https://127.0.0.1:8080/cb')).toBe(false);
  });

  it('lets only the port differ for a registered [::1] URI, also when registered without a port', () => {
    const reg = ['http://[::1]/cb'];
    expect(redirectUriMatches(reg, 'http://[::1]:3000/cb')).toBe(true);
    expect(redirectUriMatches(reg, 'http://127.0.0.1:3000/cb')).toBe(false);
  });

  it('refuses malformed or out-of-range loopback ports and host tricks', () => {
    const reg = ['http://127.0.0.1:8080/cb'];
    expect(redirectUriMatches(reg, 'http://127.0.0.1:0/cb')).toBe(false);
    expect(redirectUriMatches(reg, 'http://127.0.0.1:65536/cb')).toBe(false);
    expect(redirectUriMatches(reg, 'http://127.0.0.1:08080/cb')).toBe(false);
    expect(redirectUriMatches(reg, 'http://127.0.0.1:8080@evil.example/cb')).toBe(false);
    expect(redirectUriMatches(reg, 'http://127.0.0.1.evil.example:8080/cb')).toBe(false);
  });

  it('never extends the port exception to non-loopback hosts', () => {
    expect(redirectUriMatches(['http://192.168.1.2:8080/cb'], 'http://192.168.1.2:9090/cb')).toBe(false);
  });

  it('reports a mismatch as redirect_uri_mismatch', () => {
    expect(checkRedirectUri(web, 'https://evil.example/cb')).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'redirect_uri_mismatch' },
    });
  });
});
