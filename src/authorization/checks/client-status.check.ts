import { CheckResult, fail, pass } from './rejection';

export type ClientStatus = 'enabled' | 'disabled' | 'unknown';

/** Rule 1: the client must exist and be enabled (400 page otherwise: its redirect URIs cannot be trusted). */
export function checkClientStatus(status: ClientStatus): CheckResult<true> {
  if (status === 'unknown')
    return fail('invalid_request', 'unknown_client', 'the client_id is not registered');
  if (status === 'disabled') return fail('invalid_request', 'client_disabled', 'this client is disabled');
  return pass(true);
}
