import { checkResponseType } from '../../../src/authorization/checks/response-type.check';

describe('response_type', () => {
  it('accepts code', () => {
    expect(checkResponseType('code')).toEqual({ ok: true, value: 'code' });
  });

  it('refuses a missing response_type as invalid_request', () => {
    expect(checkResponseType(undefined)).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request' },
    });
  });

  it.each(['token', 'code id_token', 'CODE', 'code '])('refuses %j as unsupported_response_type', (value) => {
    expect(checkResponseType(value)).toMatchObject({
      ok: false,
      rejection: { error: 'unsupported_response_type', reason: 'unsupported_response_type' },
    });
  });
});
