/**
 * A short-lived, bounded cache of introspection answers keyed by a hash of the token (never the token):
 * an answer is reused for at most `ttlMs`, never past the token's expiry, and at most `maxEntries` are kept.
 */
export class IntrospectionCache {
  private readonly entries = new Map<string, { active: boolean; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): boolean | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.active;
  }

  set(key: string, active: boolean, tokenExpiresAtMs?: number): void {
    const until = Math.min(this.now() + this.ttlMs, tokenExpiresAtMs ?? Infinity);
    this.entries.delete(key);
    this.entries.set(key, { active, until });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
