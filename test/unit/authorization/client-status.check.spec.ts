import { checkClientStatus } from '../../../src/authorization/checks/client-status.check';

describe('the client must exist and be enabled', () => {
  it('passes an enabled client', () => {
    expect(checkClientStatus('enabled').ok).toBe(true);
  });

  it('refuses an unknown client_id (unknown_client)', () => {
    expect(checkClientStatus('unknown')).toMatchObject({
      ok: false,
      rejection: { reason: 'unknown_client' },
    });
  });

  it('refuses a disabled client (client_disabled)', () => {
    expect(checkClientStatus('disabled')).toMatchObject({
      ok: false,
      rejection: { reason: 'client_disabled' },
    });
  });
});
