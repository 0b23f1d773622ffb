import { clientRedirect, errorRedirect, successRedirect } from '../../../src/authorization/redirects';

describe('redirects back to the client', () => {
  it('carries code, state and iss (RFC 9207)', () => {
    const url = new URL(
      successRedirect('https://app.example.com/cb', 'CODE', 'xyz', 'https://as.example.com'),
    );
    expect(url.origin + url.pathname).toBe('https://app.example.com/cb');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      code: 'CODE',
      state: 'xyz',
      iss: 'https://as.example.com',
    });
  });

  it('omits state when the client sent none', () => {
    const url = new URL(
      successRedirect('https://app.example.com/cb', 'CODE', null, 'https://as.example.com'),
    );
    expect(url.searchParams.has('state')).toBe(false);
    expect(url.searchParams.get('iss')).toBe('https://as.example.com');
  });

  it('carries error, error_description, state and iss on errors', () => {
    const url = new URL(
      errorRedirect(
        'http://127.0.0.1:5000/cb',
        'access_denied',
        'the user denied the request',
        's',
        'http://as',
      ),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      error: 'access_denied',
      error_description: 'the user denied the request',
      state: 's',
      iss: 'http://as',
    });
  });

  it('keeps the registered query byte for byte and appends to it', () => {
    expect(clientRedirect('https://app.example.com/cb?tenant=a%20b', { code: 'C' })).toBe(
      'https://app.example.com/cb?tenant=a%20b&code=C',
    );
    expect(clientRedirect('https://app.example.com/cb?', { code: 'C' })).toBe(
      'https://app.example.com/cb?code=C',
    );
  });

  it('encodes state verbatim, whatever it contains', () => {
    const state = 'a&b=c#d e+f%';
    const url = new URL(successRedirect('https://app.example.com/cb', 'C', state, 'https://as'));
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.hash).toBe('');
  });
});
