import { sha256Base64url } from '../common/crypto';

/**
 * Access tokens whose ES256 signature this instance has already verified, keyed by the SHA-256 of the exact
 * token string (a digest, so that an entry never keeps the request it came in alive).
 *
 * A signature check costs ~0.13 ms of CPU — the largest single cost of an introspection — and resource
 * servers introspect the same token again and again. Whether a given byte string carries a valid signature
 * never changes, so the verdict can be remembered; what can change is checked on every call anyway by the
 * caller: the key must still be published (a retired kid is a miss), `iss` and `exp` are compared again,
 * and the revocation state is read from the database. Only tokens that verified are stored (a forged token
 * costs its attacker a verification every time and never takes a slot), entries leave when their token
 * expires or, oldest first, when the cache is full.
 */
export class VerifiedTokenCache<TClaims extends { exp: number }> {
  private readonly entries = new Map<string, { kid: string; claims: TClaims }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The remembered verdict for this exact token, unless its token has expired (then it is dropped). */
  get(token: string, nowSeconds: number): { kid: string; claims: TClaims } | undefined {
    const key = sha256Base64url(token);
    const entry = this.entries.get(key);
    if (entry && entry.claims.exp <= nowSeconds) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Drops a token (its key was retired: the next check verifies, and fails, from scratch). */
  forget(token: string): void {
    this.entries.delete(sha256Base64url(token));
  }

  /** Remembers a token whose signature verified under `kid`; evicts the oldest entry when full. */
  remember(token: string, kid: string, claims: TClaims): void {
    if (this.maxEntries <= 0) return;
    const key = sha256Base64url(token);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { kid, claims: Object.freeze(claims) });
  }
}
