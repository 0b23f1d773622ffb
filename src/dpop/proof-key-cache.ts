import type { CryptoKey } from 'jose';

/** A DPoP proof key as imported once: the key jose verifies with, and its RFC 7638 thumbprint (`jkt`). */
export interface ProofKey {
  key: CryptoKey;
  jkt: string;
}

/**
 * The public keys of DPoP proofs that verified, keyed by the proof's `alg` and its `jwk` exactly as sent.
 *
 * A client signs every proof with the same key (that is what binds its tokens), and importing that key through
 * WebCrypto on every proof was the largest single cost of a DPoP request (docs/performance.md: ≈ 0.3 ms of a
 * PAR + DPoP flow's two proofs). What an imported key is depends only on (`alg`, `jwk`): the same checks
 * (public key, `use`, `alg` member) give the same verdict every time, so the import is remembered; the
 * signature, `htm`, `htu`, `iat`, `ath`, nonce and `jti` of every proof are still checked on every request.
 * Only keys whose proof verified are stored (a forged proof never takes a slot); when full, the least recently
 * used entry leaves.
 */
export class ProofKeyCache {
  private readonly entries = new Map<string, ProofKey>();

  constructor(private readonly maxEntries: number) {}

  /** The cache key of a proof's protected header. */
  static keyOf(alg: string, jwk: object): string {
    return `${alg} ${JSON.stringify(jwk)}`;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): ProofKey | undefined {
    const entry = this.entries.get(key);
    if (entry) {
      // most recently used last
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  remember(key: string, entry: ProofKey): void {
    if (this.entries.has(key)) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, entry);
  }
}
