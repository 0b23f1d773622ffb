import { consentCovers, describeScope } from '../../../src/authorization/scope-descriptions';

describe('consent page scope descriptions and remembered consent', () => {
  it('describes api:read and api:write in words', () => {
    expect(describeScope('api:read')).toMatch(/see your data/i);
    expect(describeScope('api:write')).toMatch(/change/i);
  });

  it('falls back to a generic description naming the scope', () => {
    expect(describeScope('reports')).toContain('reports');
  });

  it('remembers consent for a subset of what was approved, not for more', () => {
    expect(consentCovers('api:read api:write', ['api:read'])).toBe(true);
    expect(consentCovers('api:read api:write', ['api:write', 'api:read'])).toBe(true);
    expect(consentCovers('api:read', ['api:read', 'api:write'])).toBe(false);
    expect(consentCovers(undefined, ['api:read'])).toBe(false);
    expect(consentCovers('', [])).toBe(true);
  });
});
