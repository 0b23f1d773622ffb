import { CheckResult, fail, pass } from './rejection';

/** RFC 6749 §4.1.1 / OAuth 2.1: response_type is required and only `code` is supported. */
export function checkResponseType(responseType: string | undefined): CheckResult<'code'> {
  if (responseType === undefined)
    return fail('invalid_request', 'invalid_request', 'response_type is missing');
  if (responseType !== 'code')
    return fail(
      'unsupported_response_type',
      'unsupported_response_type',
      'only response_type=code is supported',
    );
  return pass('code');
}
