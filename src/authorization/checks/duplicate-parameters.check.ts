import { CheckResult, fail, pass } from './rejection';
import { QueryParameters } from './query-parameters';

/** RFC 6749 §3.1: request parameters must not be included more than once → invalid_request. */
export function checkNoDuplicateParameters(params: QueryParameters): CheckResult<true> {
  for (const [name, values] of params) {
    if (values.length > 1) {
      const shown = /^[a-z_]{1,40}$/.test(name) ? name : 'a parameter';
      return fail('invalid_request', 'duplicate_parameter', `${shown} was sent more than once`);
    }
  }
  return pass(true);
}
