import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (memory-hard, in node:crypto, no native add-on). Encoded in the PHC string
 * format so that the parameters travel with the hash and can be raised later:
 *   $scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>
 * N = 2^15, r = 8 needs 32 MiB per hash (OWASP's minimum for scrypt is N=2^17 with r=8 ~ 128 MiB; 2^15 is
 * the common interactive setting and keeps a login under ~100 ms on a small machine).
 */
export const SCRYPT_LOG_N = 15;
export const SCRYPT_R = 8;
export const SCRYPT_P = 1;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

const ENCODED =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function options(logN: number, r: number, p: number): ScryptOptions {
  // maxmem must exceed 128 * N * r bytes (Node's default 32 MiB is exactly the limit for 2^15, r=8)
  return { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r + 1024 * 1024 };
}

/** Unicode passwords are compared in NFC (RFC 8265 OpaqueString), so input methods do not matter. */
function prepare(password: string): string {
  return password.normalize('NFC');
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scrypt(prepare(password), salt, KEY_LENGTH, options(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P));
  return `$scrypt$ln=${SCRYPT_LOG_N},r=${SCRYPT_R},p=${SCRYPT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Constant-time check of a password against an encoded hash; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = ENCODED.exec(encoded);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 1 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const salt = Buffer.from(m[4], 'base64');
  const expected = Buffer.from(m[5], 'base64');
  if (expected.length < 16) return false;
  const actual = await scrypt(prepare(password), salt, expected.length, options(logN, r, p));
  return timingSafeEqual(actual, expected);
}
