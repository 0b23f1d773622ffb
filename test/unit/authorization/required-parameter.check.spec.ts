import { parseQueryParameters } from '../../../src/authorization/checks/query-parameters';
import { checkRequiredOnce } from '../../../src/authorization/checks/required-parameter.check';

describe('client_id and redirect_uri: required, exactly once', () => {
  it('accepts a single value', () => {
    expect(checkRequiredOnce(parseQueryParameters('client_id=abc'), 'client_id')).toEqual({
      ok: true,
      value: 'abc',
    });
  });

  it('refuses a missing parameter as invalid_request', () => {
    const r = checkRequiredOnce(parseQueryParameters('x=1'), 'client_id');
    expect(r).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'invalid_request' },
    });
  });

  it('refuses an empty value as missing', () => {
    const r = checkRequiredOnce(parseQueryParameters('redirect_uri='), 'redirect_uri');
    expect(r).toMatchObject({
      ok: false,
      rejection: { reason: 'invalid_request', description: 'redirect_uri is missing' },
    });
  });

  it('refuses a repeated parameter as duplicate_parameter, even with equal values', () => {
    const r = checkRequiredOnce(parseQueryParameters('client_id=abc&client_id=abc'), 'client_id');
    expect(r).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_request', reason: 'duplicate_parameter' },
    });
  });
});
