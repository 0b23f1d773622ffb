/** Remembers DPoP proof identifiers until they expire, so a proof is accepted only once. */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAtMs`; answers true when it was already recorded (a replay). Must be atomic:
   * of two concurrent calls with one key, exactly one answers false.
   */
  seen(key: string, expiresAtMs: number): Promise<boolean>;
}

/** The default ReplayStore: in this process's memory, bounded (the oldest entries are dropped first). */
export class InMemoryReplayStore implements ReplayStore {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async seen(key: string, expiresAtMs: number): Promise<boolean> {
    const now = this.now();
    const known = this.entries.get(key);
    if (known !== undefined && known > now) return true;
    this.entries.delete(key);
    this.entries.set(key, expiresAtMs);
    if (this.entries.size > this.maxEntries) this.sweep(now);
    return false;
  }

  private sweep(now: number): void {
    for (const [key, expires] of this.entries) if (expires <= now) this.entries.delete(key);
    // still full of live entries: drop the oldest (a proof older than the window is refused anyway by iat)
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
