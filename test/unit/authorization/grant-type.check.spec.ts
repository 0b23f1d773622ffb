import { checkAuthorizationCodeGrant } from '../../../src/authorization/checks/grant-type.check';

describe('the client must be registered for authorization_code', () => {
  it('passes a client with authorization_code', () => {
    expect(checkAuthorizationCodeGrant(['authorization_code', 'refresh_token']).ok).toBe(true);
  });

  it('refuses a client_credentials-only client as unauthorized_client', () => {
    expect(checkAuthorizationCodeGrant(['client_credentials'])).toMatchObject({
      ok: false,
      rejection: { error: 'unauthorized_client', reason: 'unauthorized_client' },
    });
  });
});
