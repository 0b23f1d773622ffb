import { checkPkce } from '../../../src/authorization/checks/pkce.check';

const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'; // RFC 7636 appendix B

describe('PKCE: required, S256 only, well-formed challenge', () => {
  it('accepts an S256 challenge of 43 base64url characters', () => {
    expect(checkPkce(challenge, 'S256')).toEqual({ ok: true, value: challenge });
  });

  it('refuses a missing code_challenge (pkce_missing_challenge), whatever the method', () => {
    expect(checkPkce(undefined, 'S256')).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'pkce_missing_challenge' },
    });
    expect(checkPkce(undefined, 'plain')).toMatchObject({
      ok: false,
      rejection: { reason: 'pkce_missing_challenge' },
    });
  });

  it('refuses a missing method instead of defaulting to plain (pkce_method_missing)', () => {
    expect(checkPkce(challenge, undefined)).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'pkce_method_missing' },
    });
  });

  it('refuses plain (pkce_plain_rejected)', () => {
    expect(checkPkce(challenge, 'plain')).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'pkce_plain_rejected' },
    });
  });

  it.each(['s256', 'S512', 'SHA256', 'S256 '])(
    'refuses the method %j (pkce_method_unsupported)',
    (method) => {
      expect(checkPkce(challenge, method)).toMatchObject({
        ok: false,
        rejection: { error: 'invalid_request', reason: 'pkce_method_unsupported' },
      });
    },
  );

  it.each([
    ['42 characters', challenge.slice(0, 42)],
    ['44 characters', challenge + 'A'],
    ['base64 padding', challenge.slice(0, 42) + '='],
    ['standard base64 characters', challenge.slice(0, 41) + '+/'],
    ['a space', challenge.slice(0, 42) + ' '],
  ])('refuses a challenge with %s (pkce_malformed_challenge)', (_name, value) => {
    expect(checkPkce(value, 'S256')).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'pkce_malformed_challenge' },
    });
  });
});
