import { hashPassword, verifyPassword } from '../../../src/users/password-hasher';

describe('password hashing (scrypt)', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword('correct horse battery staple');
  });

  it('encodes the algorithm, its parameters, a 16-byte salt and the hash', () => {
    const m = /^\$scrypt\$ln=15,r=8,p=1\$([^$]+)\$([^$]+)$/.exec(hash);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1], 'base64')).toHaveLength(16);
    expect(Buffer.from(m![2], 'base64')).toHaveLength(32);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('correct horse battery staple')).not.toBe(hash);
  });

  it('compares Unicode passwords in NFC', async () => {
    const h = await hashPassword('caf\u00e9-password');
    expect(await verifyPassword('cafe\u0301-password', h)).toBe(true);
  });

  it('refuses malformed or absurd encodings instead of throwing', async () => {
    expect(await verifyPassword('x', 'not a hash')).toBe(false);
    expect(
      await verifyPassword(
        'x',
        '$scrypt$ln=40,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=',
      ),
    ).toBe(false);
  });
});
