import { CheckResult, fail, pass } from './rejection';
import { QueryParameters } from './query-parameters';

/**
 * Rule 1 (docs/authorization.md): `client_id` and `redirect_uri` are required, each exactly once. Checked before
 * anything can be redirected: a failure is a 400 page, never a redirect.
 */
export function checkRequiredOnce(params: QueryParameters, name: string): CheckResult<string> {
  const values = params.get(name) ?? [];
  if (values.length > 1)
    return fail('invalid_request', 'duplicate_parameter', `${name} was sent more than once`);
  if (values.length === 0 || values[0] === '')
    return fail('invalid_request', 'invalid_request', `${name} is missing`);
  return pass(values[0]);
}
