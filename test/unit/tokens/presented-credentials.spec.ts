import { OAuthError } from '../../../src/common/oauth-errors';
import { decodeBasic, presentedCredentials } from '../../../src/tokens/client-auth/presented-credentials';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function errorOf(fn: () => unknown): OAuthError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error('expected an OAuthError');
}

describe('decodeBasic (RFC 6749 §2.3.1 form-encoded id and secret)', () => {
  it('decodes a plain id and secret', () => {
    expect(decodeBasic(`Basic ${b64('client:secret')}`)).toEqual({ clientId: 'client', secret: 'secret' });
  });

  it("form-decodes both parts: '+' is a space, %XX escapes, the first ':' separates", () => {
    expect(decodeBasic(`Basic ${b64('my%3Aclient:p+a%2Bs%3As')}`)).toEqual({
      clientId: 'my:client',
      secret: 'p a+s:s',
    });
    expect(decodeBasic(`Basic ${b64('c:a:b')}`)).toEqual({ clientId: 'c', secret: 'a:b' });
    expect(decodeBasic(`Basic ${b64('c:%C3%A9')}`)).toEqual({ clientId: 'c', secret: 'é' });
  });

  it('accepts the scheme in any case and an empty secret', () => {
    expect(decodeBasic(`bAsIc ${b64('c:')}`)).toEqual({ clientId: 'c', secret: '' });
  });

  it.each([
    ['not base64', 'Basic !!!!'],
    ['bad padding', 'Basic YWJj='],
    ['no colon', `Basic ${b64('client')}`],
    ['empty id', `Basic ${b64(':secret')}`],
    ['broken percent-encoding in the id', `Basic ${b64('c%ZZ:secret')}`],
    ['broken percent-encoding in the secret', `Basic ${b64('c:%E0%A4%A')}`],
    ['no credentials', 'Basic '],
  ])('refuses %s with invalid_client (malformed_credentials)', (_label, header) => {
    const err = errorOf(() => decodeBasic(header));
    expect(err.code).toBe('invalid_client');
    expect(err.reason).toBe('malformed_credentials');
  });
});

describe('presentedCredentials: exactly one client authentication method', () => {
  const basic = `Basic ${b64('client:secret')}`;

  it('recognises client_secret_basic, client_secret_post and none', () => {
    expect(presentedCredentials(basic, {})).toEqual({
      method: 'client_secret_basic',
      clientId: 'client',
      secret: 'secret',
    });
    expect(presentedCredentials(undefined, { client_id: 'c', client_secret: 's' })).toEqual({
      method: 'client_secret_post',
      clientId: 'c',
      secret: 's',
    });
    expect(presentedCredentials(undefined, { client_id: 'c' })).toEqual({ method: 'none', clientId: 'c' });
  });

  it('accepts a body client_id equal to the Basic user', () => {
    expect(presentedCredentials(basic, { client_id: 'client' }).method).toBe('client_secret_basic');
  });

  it('refuses Basic plus a body client_secret, and a body client_id other than the Basic user', () => {
    for (const params of [{ client_secret: 'secret' }, { client_id: 'other' }]) {
      const err = errorOf(() => presentedCredentials(basic, params));
      expect(err.code).toBe('invalid_request');
      expect(err.reason).toBe('multiple_methods');
    }
  });

  it('refuses no client identification at all with invalid_client', () => {
    expect(errorOf(() => presentedCredentials(undefined, {})).code).toBe('invalid_client');
    expect(errorOf(() => presentedCredentials(undefined, { client_secret: 's' })).code).toBe(
      'invalid_client',
    );
  });

  it('refuses other Authorization schemes with invalid_client', () => {
    const err = errorOf(() => presentedCredentials('Bearer x', { client_id: 'c' }));
    expect(err.code).toBe('invalid_client');
    expect(err.reason).toBe('method_not_allowed');
  });
});
