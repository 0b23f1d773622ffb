import {
  constantTimeEqual,
  randomToken,
  sha256Base64url,
  sha256Hex,
  uuidV7,
  verifyPkceS256,
} from '../../../src/common/crypto';

describe('crypto helpers', () => {
  it('verifies the RFC 7636 Appendix B example', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    expect(sha256Base64url(verifier)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(verifyPkceS256(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true);
    expect(verifyPkceS256(verifier + 'x', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(false);
  });

  it('makes 256-bit random tokens of 43 base64url characters, never twice the same', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
  });

  it('hands out distinct tokens across refills of its pool, of any length asked, and refuses absurd lengths', () => {
    // 4 KiB per pool: 1,000 tokens of 32 bytes cross eight refills, and odd lengths straddle the pool's end
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(randomToken());
    expect(seen.size).toBe(1000);
    for (const bytes of [1, 16, 33, 100, 4096]) {
      expect(Buffer.from(randomToken(bytes), 'base64url')).toHaveLength(bytes);
    }
    // 256 random bits are never all zero: a slice of a pool that was not filled would be
    for (let i = 0; i < 200; i++)
      expect(Buffer.from(randomToken(), 'base64url').some((b) => b !== 0)).toBe(true);
    for (const bytes of [0, -1, 1.5, 4097]) expect(() => randomToken(bytes)).toThrow(RangeError);
  });

  it('compares strings of equal and unequal length', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('makes UUIDs of version 7: the time in milliseconds first, then random bits', () => {
    const at = Date.UTC(2026, 11, 7, 4, 5, 6, 789);
    const id = uuidV7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect(uuidV7(at)).not.toBe(id);
    // later ids sort later (as text and as PostgreSQL's uuid, which compares bytes)
    const ids = [at - 1, at, at + 1, at + 1000].map((t) => uuidV7(t));
    expect([...ids].sort()).toEqual(ids);
  });
});
