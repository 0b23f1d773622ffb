import { Inject, Injectable } from '@nestjs/common';
import { AuthenticatableClient, ClientsService } from '../../clients/clients.service';
import { ipBucket } from '../../http/ip-bucket';
import { InvalidClient } from '../../common/oauth-errors';
import { currentRequestContext } from '../../http/request-context';
import { abuseConfig, type AbuseConfig } from '../../config/config.namespaces';
import { Lockouts } from '../../rate-limit/lockouts.service';
import type { PresentedCredentials } from './presented-credentials';

/** At most this many (client_id, ip) failure hints are remembered per instance. */
const MAX_HINTS = 10_000;

/**
 * Authenticates the client of a token, revocation or introspection request: one client lookup, then the
 * registered method and the secret (constant time, ClientsService). Every failure is 401 invalid_client
 * whatever method was tried (RFC 6749 §5.2); its `reason` says why, for the audit trail.
 *
 * Failed secrets are throttled per (client_id, IP) in the shared `lockouts` table: after
 * CLIENT_AUTH_FAILURE_LIMIT failures within RATE_LIMIT_WINDOW the pair is refused (reason locked_out) without
 * the secret being checked, until the window has passed. Other IPs are never affected, so an attacker cannot
 * lock a client out. To keep the success path free of that query, an instance reads the lock only for pairs
 * it has itself seen fail recently (the failure's upsert returns the shared count, so the first failure on any
 * instance reveals a lock set by the others): across N instances an attacker gains at most N-1 extra guesses
 * per window — nothing against a 256-bit secret — and a legitimate client pays no extra round trip.
 */
@Injectable()
export class ClientAuthenticator {
  /** "client_id|ip" → until when this instance should consult the shared lock (ms since epoch). */
  private readonly hints = new Map<string, number>();

  constructor(
    private readonly clients: ClientsService,
    private readonly lockouts: Lockouts,
    @Inject(abuseConfig.KEY) private readonly abuse: AbuseConfig,
  ) {}

  async authenticate(
    presented: PresentedCredentials,
    onClientFound?: (client: AuthenticatableClient) => void,
  ): Promise<AuthenticatableClient> {
    const client = await this.clients.findEnabled(presented.clientId);
    if (!client) throw new InvalidClient('client authentication failed', 'unknown_client');
    onClientFound?.(client);
    if (client.tokenEndpointAuthMethod !== presented.method) {
      throw new InvalidClient('client authentication failed', 'method_not_allowed');
    }
    if (presented.method === 'none') return client;

    // per /64 for IPv6, like every per-IP limit
    const key = lockoutKey(client.clientId, ipBucket(currentRequestContext()?.ip));
    if (this.mayBeLocked(key) && (await this.lockouts.isClientLocked(key))) {
      throw new InvalidClient('client authentication failed', 'locked_out');
    }
    if (!client.secretMatches(presented.secret) && !(await this.matchesFreshSecret(presented))) {
      await this.recordFailure(key);
      throw new InvalidClient('client authentication failed', 'bad_secret');
    }
    return client;
  }

  /**
   * The client row may come from the per-instance cache (CLIENT_CACHE_TTL_MS): before refusing a secret,
   * check it against the database's row, so a secret just rotated on another instance works at once.
   */
  private async matchesFreshSecret(
    presented: Extract<PresentedCredentials, { secret: string }>,
  ): Promise<boolean> {
    const fresh = await this.clients.findEnabled(presented.clientId, { fresh: true });
    return (
      fresh !== null &&
      fresh.tokenEndpointAuthMethod === presented.method &&
      fresh.secretMatches(presented.secret)
    );
  }

  private mayBeLocked(key: string): boolean {
    const until = this.hints.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.hints.delete(key);
    return false;
  }

  private async recordFailure(key: string): Promise<void> {
    const window = this.abuse.rateLimitWindow;
    await this.lockouts.recordClientFailure(key, this.abuse.clientAuthFailureLimit, window);
    if (this.hints.size >= MAX_HINTS) {
      const now = Date.now();
      for (const [k, until] of this.hints) if (until <= now) this.hints.delete(k);
      if (this.hints.size >= MAX_HINTS) this.hints.delete(this.hints.keys().next().value as string);
    }
    this.hints.delete(key); // re-insert: Map order = age
    this.hints.set(key, Date.now() + window * 1000);
  }
}

export function lockoutKey(clientId: string, ip: string | null): string {
  return `${clientId}|${ip ?? 'unknown'}`.slice(0, 200);
}
