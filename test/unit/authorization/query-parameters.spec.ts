import { parseQueryParameters, rawQueryOf, single } from '../../../src/authorization/checks/query-parameters';

describe('authorization request query parameters', () => {
  it('keeps every occurrence of a repeated parameter', () => {
    const p = parseQueryParameters('a=1&b=2&a=3');
    expect(p.get('a')).toEqual(['1', '3']);
    expect(p.get('b')).toEqual(['2']);
  });

  it('decodes percent-escapes and + as a space, and keeps malformed escapes literally', () => {
    const p = parseQueryParameters('scope=api%3Aread+api%3Awrite&x=%E0%A4%A&y=%zz');
    expect(single(p, 'scope')).toBe('api:read api:write');
    expect(p.get('y')).toEqual(['%zz']);
  });

  it('treats a parameter without a value as omitted (RFC 6749 §3.1)', () => {
    const p = parseQueryParameters('state=&client_id=abc');
    expect(single(p, 'state')).toBeUndefined();
    expect(single(p, 'client_id')).toBe('abc');
    expect(single(p, 'missing')).toBeUndefined();
  });

  it('takes the query string of a request URL', () => {
    expect(rawQueryOf('/oauth/authorize?a=1&b=2')).toBe('a=1&b=2');
    expect(rawQueryOf('/oauth/authorize')).toBe('');
    expect(rawQueryOf('/oauth/authorize?a=1?b')).toBe('a=1?b');
  });
});
