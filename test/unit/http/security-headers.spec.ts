import { helmetOptions, securityHeaders } from '../../../src/http/security-headers';

describe('security headers (helmet, computed once)', () => {
  it('are helmet’s headers for our CSP, without HSTS behind http', () => {
    const headers = securityHeaders(helmetOptions(false));
    expect(headers['Content-Security-Policy']).toBe(
      "default-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;script-src 'self';" +
        "object-src 'none';base-uri 'none';frame-ancestors 'none'",
    );
    expect(headers).toMatchObject({
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'SAMEORIGIN',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    expect(headers).not.toHaveProperty('Strict-Transport-Security');
    expect(headers).not.toHaveProperty('Cross-Origin-Resource-Policy');
  });

  it('add HSTS and upgrade-insecure-requests behind https', () => {
    const headers = securityHeaders(helmetOptions(true));
    expect(headers['Strict-Transport-Security']).toMatch(/^max-age=\d+; includeSubDomains$/);
    expect(headers['Content-Security-Policy']).toMatch(/;upgrade-insecure-requests$/);
  });

  it('are a fresh object per call (a caller cannot change another’s)', () => {
    const a = securityHeaders(helmetOptions(false));
    a['X-Frame-Options'] = 'ALLOW';
    expect(securityHeaders(helmetOptions(false))['X-Frame-Options']).toBe('SAMEORIGIN');
  });
});
