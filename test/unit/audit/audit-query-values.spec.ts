import { decodeCursor, encodeCursor, isIpOrCidr, parseRfc3339 } from '../../../src/audit/audit-query-values';

describe('audit query values', () => {
  describe('parseRfc3339', () => {
    it.each([
      ['2025-01-31T10:20:30Z', '2025-01-31T10:20:30.000Z'],
      ['2025-01-31t10:20:30z', '2025-01-31T10:20:30.000Z'],
      ['2025-01-31 10:20:30Z', '2025-01-31T10:20:30.000Z'],
      ['2025-01-31T10:20:30.123456Z', '2025-01-31T10:20:30.123Z'],
      ['2025-01-31T12:20:30+02:00', '2025-01-31T10:20:30.000Z'],
      ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
      ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'],
    ])('accepts %s', (input, iso) => {
      expect(parseRfc3339(input)?.toISOString()).toBe(iso);
    });

    it.each([
      '2025-01-31',
      '2025-01-31T10:20Z',
      '2025-01-31T10:20:30',
      '2025-02-30T00:00:00Z',
      '2025-02-29T00:00:00Z',
      '2025-13-01T00:00:00Z',
      '2025-01-01T24:00:00Z',
      '2025-01-01T00:00:00+25:00',
      '1735689600',
      'yesterday',
      '',
    ])('refuses %p', (input) => {
      expect(parseRfc3339(input)).toBeUndefined();
    });

    it('refuses non-strings', () => {
      expect(parseRfc3339(['2025-01-31T10:20:30Z'])).toBeUndefined();
    });
  });

  describe('cursor', () => {
    it('round-trips a position to the microsecond', () => {
      const position = { occurredAt: '2025-01-31T10:20:30.123456Z', id: '42' };
      const cursor = encodeCursor(position);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeCursor(cursor)).toEqual(position);
    });

    it.each([
      ['not base64', '!!!'],
      ['not JSON', Buffer.from('hello').toString('base64url')],
      ['no id', Buffer.from(JSON.stringify({ t: '2025-01-31T10:20:30.123456Z' })).toString('base64url')],
      [
        'bad id',
        Buffer.from(JSON.stringify({ t: '2025-01-31T10:20:30.123456Z', i: '1; DROP' })).toString('base64url'),
      ],
      [
        'bad time',
        Buffer.from(JSON.stringify({ t: '2025-02-30T10:20:30.123456Z', i: '1' })).toString('base64url'),
      ],
      ['empty', ''],
    ])('refuses %s', (_label, cursor) => {
      expect(decodeCursor(cursor)).toBeUndefined();
    });
  });

  describe('isIpOrCidr', () => {
    it.each(['203.0.113.7', '10.0.0.0/8', '2001:db8::/32', '::1', '0.0.0.0/0'])('accepts %s', (v) =>
      expect(isIpOrCidr(v)).toBe(true),
    );
    it.each(['300.0.0.1', '10.0.0.0/33', '2001:db8::/129', '10.0.0.0/8/8', '10.0.0.0/x', 'localhost', ''])(
      'refuses %p',
      (v) => expect(isIpOrCidr(v)).toBe(false),
    );
  });
});
