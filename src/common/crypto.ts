import { createHmac, hash, randomFillSync, timingSafeEqual } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Random bytes are drawn from the CSPRNG 4 KiB at a time and handed out once each, as Node's own randomUUID does:
 * one `randomBytes(32)` costs ≈ 5 µs on the benchmark VM (a call into OpenSSL per token), a slice of the pool
 * ≈ 0.3 µs (docs/performance.md). Every byte is used for one value only.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** 256-bit random value, base64url (43 characters): codes, refresh tokens, client secrets, session ids. */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL_SIZE) {
    throw new RangeError(`randomToken: 1 to ${POOL_SIZE} bytes`);
  }
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const value = pool.toString('base64url', poolOffset, poolOffset + bytes);
  pool.fill(0, poolOffset, poolOffset + bytes); // handed out: not kept in the pool
  poolOffset += bytes;
  return value;
}

/**
 * A UUID version 7 (RFC 9562 §5.7): the Unix time in milliseconds (48 bits), then 74 random bits. Ids made
 * later sort later, so B-tree inserts keyed by them land on the index's right edge instead of on a random leaf
 * of a large index (docs/performance.md, at scale). For ids that name rows, not for secrets: the time is
 * readable in the id. Made by the `uuid` package.
 */
export function uuidV7(now = Date.now()): string {
  return v7({ msecs: now });
}

// crypto.hash (one shot, Node ≥ 20.12): a third of createHash().update().digest()'s time for these short inputs
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

export function sha256Base64url(value: string): string {
  return hash('sha256', value, 'base64url');
}

export function hmacHex(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex');
}

/** Constant-time string comparison (lengths may differ; the comparison time depends only on `expected`). */
export function constantTimeEqual(actual: string, expected: string): boolean {
  const a = Buffer.from(actual);
  const b = Buffer.from(expected);
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge, compared in constant time. */
export function verifyPkceS256(verifier: string, challenge: string): boolean {
  return constantTimeEqual(sha256Base64url(verifier), challenge);
}
