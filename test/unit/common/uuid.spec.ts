import { randomUUID } from 'node:crypto';
import { v7 } from 'uuid';
import { isUuid } from '../../../src/common/uuid';

describe('isUuid', () => {
  it('accepts the canonical text form of any version, in either case', () => {
    expect(isUuid(randomUUID())).toBe(true);
    expect(isUuid(v7())).toBe(true);
    expect(isUuid(randomUUID().toUpperCase())).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
  });

  it('refuses every other form (the ids Latchkey issues and reads are canonical)', () => {
    for (const value of [
      '',
      'nope',
      `${randomUUID()} `,
      `{${randomUUID()}}`,
      randomUUID().replace(/-/g, ''),
      'g'.repeat(36),
    ]) {
      expect(isUuid(value)).toBe(false);
    }
  });
});
