import type { LatchkeyClientStore, PendingAuthorization, SessionTokens } from './client-store';

/**
 * The default store: this process's memory (a single instance; everything is lost on restart). Bounded: past
 * `maxEntries` pending sign-ins the oldest are dropped (an abandoned sign-in then simply has to start again).
 */
export class InMemoryClientStore implements LatchkeyClientStore {
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly sessions = new Map<string, { tokens: SessionTokens; expiresAt: number }>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async savePending(key: string, pending: PendingAuthorization): Promise<void> {
    this.pending.set(key, { ...pending });
    for (const [k, v] of this.pending) {
      if (this.pending.size <= this.maxEntries && v.expiresAt > this.now()) break;
      this.pending.delete(k);
    }
  }

  async takePending(key: string): Promise<PendingAuthorization | undefined> {
    const entry = this.pending.get(key);
    this.pending.delete(key);
    return entry && entry.expiresAt > this.now() ? entry : undefined;
  }

  async saveSession(key: string, tokens: SessionTokens, expiresAt: number): Promise<void> {
    this.sessions.delete(key);
    this.sessions.set(key, { tokens: { ...tokens }, expiresAt });
    for (const [k, v] of this.sessions) {
      if (this.sessions.size <= this.maxEntries && v.expiresAt > this.now()) break;
      this.sessions.delete(k);
    }
  }

  async getSession(key: string): Promise<SessionTokens | undefined> {
    const entry = this.sessions.get(key);
    if (entry && entry.expiresAt <= this.now()) this.sessions.delete(key);
    return entry && entry.expiresAt > this.now() ? { ...entry.tokens } : undefined;
  }

  async deleteSession(key: string): Promise<void> {
    this.sessions.delete(key);
  }
}
