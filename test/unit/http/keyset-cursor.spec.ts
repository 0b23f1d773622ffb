import { decodeCursor, encodeCursor } from '../../../src/http/keyset-cursor';

describe('client list cursor', () => {
  it('round-trips a keyset position with microseconds', () => {
    const position = { createdAt: '2026-01-02T03:04:05.123456Z', clientId: 'lk_abc-_DEF' };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['JSON null', b64(null)],
    ['an array', b64(['2026-01-02T03:04:05.123456Z', 'lk_a'])],
    ['missing id', b64({ t: '2026-01-02T03:04:05.123456Z' })],
    ['a numeric time', b64({ t: 1767323045, i: 'lk_a' })],
    ['milliseconds only', b64({ t: '2026-01-02T03:04:05.123Z', i: 'lk_a' })],
    ['no zone', b64({ t: '2026-01-02T03:04:05.123456', i: 'lk_a' })],
    ['February 30th', b64({ t: '2026-02-30T03:04:05.123456Z', i: 'lk_a' })],
    ['hour 24', b64({ t: '2026-01-02T24:00:00.000000Z', i: 'lk_a' })],
    ['an id with spaces', b64({ t: '2026-01-02T03:04:05.123456Z', i: 'lk a' })],
    ['an oversize id', b64({ t: '2026-01-02T03:04:05.123456Z', i: 'x'.repeat(65) })],
    ['oversize', 'a'.repeat(513)],
  ])('rejects %s', (_label, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });
});
