import { resolveScope } from '../../../src/authorization/checks/scope.check';

const configured = ['api:read', 'api:write', 'reports'];

describe('scope: a subset of the registered scopes, built-in scopes never', () => {
  it('grants the requested registered scopes, de-duplicated, in request order', () => {
    expect(resolveScope('api:write api:read api:write', ['api:read', 'api:write'], configured)).toEqual({
      ok: true,
      value: ['api:write', 'api:read'],
    });
  });

  it('defaults an absent or empty scope to every registered non-built-in scope', () => {
    const registered = ['api:read', 'clients:read', 'api:write'];
    expect(resolveScope(undefined, registered, configured)).toEqual({
      ok: true,
      value: ['api:read', 'api:write'],
    });
    expect(resolveScope('   ', registered, configured)).toEqual({
      ok: true,
      value: ['api:read', 'api:write'],
    });
  });

  it('refuses a scope the client is not registered for (invalid_scope)', () => {
    expect(resolveScope('api:read reports', ['api:read'], configured)).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_scope', reason: 'invalid_scope' },
    });
  });

  it.each(['clients:read', 'clients:write', 'audit:read'])(
    'never grants the built-in scope %s, even when registered',
    (s) => {
      expect(resolveScope(`api:read ${s}`, ['api:read', s], configured)).toMatchObject({
        ok: false,
        rejection: { error: 'invalid_scope' },
      });
    },
  );

  it('refuses a registered scope that is no longer configured in SCOPES', () => {
    expect(resolveScope('legacy', ['legacy'], configured)).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_scope' },
    });
  });

  it('refuses malformed scope tokens', () => {
    expect(resolveScope('api:read\tapi:write', ['api:read', 'api:write'], configured)).toMatchObject({
      ok: false,
      rejection: { error: 'invalid_scope', description: 'the scope parameter is malformed' },
    });
    expect(resolveScope('"x"', ['"x"'], configured)).toMatchObject({ ok: false });
  });
});
