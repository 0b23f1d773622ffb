import { Injectable } from '@nestjs/common';
import { constantTimeEqual, sha256Hex } from '../common/crypto';
import { Client, ClientEntity, toClient, TokenEndpointAuthMethod, GrantType } from './client.entity';
import { ClientRowCache } from './client-row-cache';
import { ClientAuthRow, ClientsRepository } from './clients.repository';

/** A client as the token, revocation and introspection endpoints see it: with a way to check its secret. */
export interface AuthenticatableClient extends Client {
  /** Constant-time check against the current secret (and the previous one during a rotation overlap). */
  secretMatches(secret: string): boolean;
}

/**
 * The client registry as other modules use it (the admin API lives in ClientsAdminService).
 * Secrets are 256-bit random values stored as SHA-256 (docs/architecture.md, conventions): a memory-hard KDF would cap
 * client authentication at ~100/s for no gain against a 256-bit secret.
 */
@Injectable()
export class ClientsService {
  constructor(
    private readonly repository: ClientsRepository,
    private readonly cache: ClientRowCache,
  ) {}

  /**
   * The client if it exists and is enabled (one indexed lookup, or none within CLIENT_CACHE_TTL_MS of the
   * last one on this instance: see ClientRowCache). `fresh` skips the cache (failure paths: a secret that
   * does not match the remembered row is checked again against the database's).
   */
  async findEnabled(
    clientId: string,
    options: { fresh?: boolean } = {},
  ): Promise<AuthenticatableClient | null> {
    if (!isPlausibleClientId(clientId)) return null;
    const load = () => this.repository.findRow(clientId);
    const row = options.fresh ? await load() : await this.cache.get(clientId, load);
    if (!row || !row.enabled) return null;
    return fromRow(row);
  }

  /**
   * A client Latchkey itself uses (the audit console): a public authorization_code client with no scope, one
   * redirect URI and no consent of its own to remember. Created at start-up, its name and redirect URI kept in
   * step with BRAND_NAME and ISSUER; an operator who disabled it keeps it disabled.
   */
  async ensureBuiltInClient(clientId: string, clientName: string, redirectUri: string): Promise<void> {
    const existing = await this.repository.findById(clientId);
    if (existing && existing.clientName === clientName && existing.redirectUris.join() === redirectUri)
      return;
    const entity =
      existing ??
      Object.assign(new ClientEntity(), {
        clientId,
        tokenEndpointAuthMethod: 'none',
        secretHash: null,
        previousSecretHash: null,
        previousSecretExpiresAt: null,
        grantTypes: ['authorization_code'],
        scope: '',
        requireConsent: false,
        enabled: true,
        createdBy: 'latchkey',
      });
    entity.clientName = clientName;
    entity.redirectUris = [redirectUri];
    await this.repository.save(entity);
  }
}

/** Client ids are short printable strings; anything else cannot exist (and must not reach SQL as junk). */
export function isPlausibleClientId(clientId: unknown): clientId is string {
  return (
    typeof clientId === 'string' &&
    clientId.length > 0 &&
    clientId.length <= 64 &&
    /^[\x21-\x7e]+$/.test(clientId)
  );
}

/** The client made of a row, once per row object: the cache hands out the same row until it reloads it. */
const clients = new WeakMap<ClientAuthRow, AuthenticatableClient>();
function fromRow(row: ClientAuthRow): AuthenticatableClient {
  let client = clients.get(row);
  if (!client) {
    client = Object.freeze(clientOf(row));
    clients.set(row, client);
  }
  return client;
}

function clientOf(row: ClientAuthRow): AuthenticatableClient {
  const client = toClient({
    clientId: row.client_id,
    clientName: row.client_name,
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    redirectUris: row.redirect_uris,
    postLogoutRedirectUris: row.post_logout_redirect_uris ?? [],
    grantTypes: row.grant_types as GrantType[],
    scope: row.scope,
    requireConsent: row.require_consent,
    enabled: row.enabled,
    dpopBoundAccessTokens: row.dpop_bound_access_tokens,
    requirePushedAuthorizationRequests: row.require_pushed_authorization_requests,
  } as never);
  return {
    ...client,
    secretMatches: (secret: string) => {
      if (!row.secret_hash || typeof secret !== 'string') return false;
      const hash = sha256Hex(secret);
      const current = constantTimeEqual(hash, row.secret_hash);
      const previous =
        row.previous_secret_hash !== null &&
        row.previous_secret_expires_at !== null &&
        row.previous_secret_expires_at.getTime() > Date.now() &&
        constantTimeEqual(hash, row.previous_secret_hash);
      return current || previous;
    },
  };
}
