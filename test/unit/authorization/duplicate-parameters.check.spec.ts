import { checkNoDuplicateParameters } from '../../../src/authorization/checks/duplicate-parameters.check';
import { parseQueryParameters } from '../../../src/authorization/checks/query-parameters';

describe('no parameter may be repeated (RFC 6749 §3.1)', () => {
  it('passes distinct parameters', () => {
    expect(checkNoDuplicateParameters(parseQueryParameters('a=1&b=2&c=')).ok).toBe(true);
  });

  it.each(['response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'unknown_extra'])(
    'refuses a repeated %s as invalid_request / duplicate_parameter',
    (name) => {
      const r = checkNoDuplicateParameters(parseQueryParameters(`${name}=a&x=1&${name}=b`));
      expect(r).toMatchObject({
        ok: false,
        rejection: {
          error: 'invalid_request',
          reason: 'duplicate_parameter',
          description: `${name} was sent more than once`,
        },
      });
    },
  );

  it('does not echo an odd parameter name into error_description', () => {
    const r = checkNoDuplicateParameters(parseQueryParameters('%22%5C=1&%22%5C=2'));
    expect(r).toMatchObject({ ok: false, rejection: { description: 'a parameter was sent more than once' } });
  });
});
