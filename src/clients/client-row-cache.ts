import { Inject, Injectable } from '@nestjs/common';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import type { ClientAuthRow } from './clients.repository';

/** At most this many clients are remembered per instance (oldest first out). */
const MAX_ENTRIES = 10_000;

/**
 * The client rows the authorize and token endpoints look up on every request, remembered per instance for
 * CLIENT_CACHE_TTL_MS (≤ 1 s; 0 = off). That is the bound for a change made on ANOTHER instance, by the CLI's
 * own process or by hand in the database; a change through this instance's admin API is seen at once
 * (`forget`). Unknown clients are never remembered. Introspection and the bearer guard read `clients.enabled`
 * live in their own queries, so revocation by disabling a client is immediate whatever this cache holds.
 *
 * A load that started before a `forget` does not store its (possibly older) row: `generation` tells.
 */
@Injectable()
export class ClientRowCache {
  private readonly rows = new Map<string, { row: ClientAuthRow; until: number }>();
  private generation = 0;

  constructor(@Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig) {}

  async get(
    clientId: string,
    load: () => Promise<ClientAuthRow | undefined>,
  ): Promise<ClientAuthRow | undefined> {
    const ttl = this.oauth.clientCacheTtlMs;
    if (ttl === 0) return load();
    const hit = this.rows.get(clientId);
    if (hit && hit.until > Date.now()) return hit.row;
    const generation = this.generation;
    const row = await load();
    if (generation !== this.generation) return row;
    this.rows.delete(clientId); // re-insert: Map order = age
    if (row) {
      if (this.rows.size >= MAX_ENTRIES) this.rows.delete(this.rows.keys().next().value as string);
      this.rows.set(clientId, { row, until: Date.now() + ttl });
    }
    return row;
  }

  /** After a change to the client has committed (admin API on this instance). */
  forget(clientId: string): void {
    this.generation += 1;
    this.rows.delete(clientId);
  }
}
