import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { randomToken, sha256Hex } from '../common/crypto';
import { AuditEmitter } from '../events/events';
import { OAuthError } from '../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { ClientEntity } from './client.entity';
import { ClientRowCache } from './client-row-cache';
import { decodeCursor, encodeCursor } from '../http/keyset-cursor';
import { invalidFields } from '../http/validation-errors';
import { BUILTIN_SCOPES } from '../common/scopes';
import { clientRuleViolations, ClientShape, generateClientId, RuleContext, splitScope } from './client-rules';
import { toClientView } from './client-view';
import { GrantRevocations } from '../grants/grant-revocations.service';
import { ClientChangeHooks } from './client-change-hooks';
import { ClientsRepository } from './clients.repository';
import type {
  ClientListResponseDto,
  ClientResponseDto,
  CreatedClientResponseDto,
} from './dto/client-response.dto';
import type { CreateClientDto } from './dto/create-client.dto';
import type { UpdateClientDto } from './dto/update-client.dto';
import { DEFAULT_PAGE_SIZE } from './dto/list-clients.query';

/** Who changes the registry: an admin API caller (its token's scopes) or the operator at the CLI. */
export type ClientsActor = { kind: 'client'; clientId: string; scopes: readonly string[] } | { kind: 'cli' };

const FIELD_NAMES: Record<keyof UpdateClientDto, keyof ClientEntity> = {
  client_name: 'clientName',
  redirect_uris: 'redirectUris',
  post_logout_redirect_uris: 'postLogoutRedirectUris',
  grant_types: 'grantTypes',
  token_endpoint_auth_method: 'tokenEndpointAuthMethod',
  scope: 'scope',
  require_consent: 'requireConsent',
  enabled: 'enabled',
  dpop_bound_access_tokens: 'dpopBoundAccessTokens',
  require_pushed_authorization_requests: 'requirePushedAuthorizationRequests',
};

/**
 * The admin side of the client registry: create, list, read, update, delete, rotate. Every change is
 * audited (docs/audit.md: client.*, grant.revoked); revocations commit in the same transaction as their events.
 */
@Injectable()
export class ClientsAdminService {
  constructor(
    private readonly repository: ClientsRepository,
    private readonly revocations: GrantRevocations,
    private readonly hooks: ClientChangeHooks,
    private readonly cache: ClientRowCache,
    private readonly audit: AuditEmitter,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  async create(dto: CreateClientDto, actor: ClientsActor): Promise<CreatedClientResponseDto> {
    const shape: ClientShape = {
      redirectUris: dto.redirect_uris ?? [],
      grantTypes: dto.grant_types ?? ['authorization_code'],
      tokenEndpointAuthMethod: dto.token_endpoint_auth_method ?? 'client_secret_basic',
      scope: dto.scope ?? '',
    };
    this.assertRules(shape, actor);
    // 256-bit secret, stored only as SHA-256 (docs/architecture.md, conventions); public clients have none
    const secret = shape.tokenEndpointAuthMethod === 'none' ? undefined : randomToken();
    const entity = Object.assign(new ClientEntity(), {
      clientId: generateClientId(),
      clientName: dto.client_name,
      tokenEndpointAuthMethod: shape.tokenEndpointAuthMethod,
      secretHash: secret ? sha256Hex(secret) : null,
      previousSecretHash: null,
      previousSecretExpiresAt: null,
      redirectUris: shape.redirectUris,
      postLogoutRedirectUris: dto.post_logout_redirect_uris ?? [],
      grantTypes: shape.grantTypes,
      scope: shape.scope,
      requireConsent: dto.require_consent ?? false,
      enabled: dto.enabled ?? true,
      dpopBoundAccessTokens: dto.dpop_bound_access_tokens ?? false,
      requirePushedAuthorizationRequests: dto.require_pushed_authorization_requests ?? false,
      createdBy: actorName(actor),
    });
    const saved = await this.repository.insert(entity);
    await this.audit.record({
      type: 'client.created',
      outcome: 'success',
      clientId: actorClientId(actor),
      subject: saved.clientId,
      details: {
        actor: actorName(actor),
        grant_types: saved.grantTypes,
        token_endpoint_auth_method: saved.tokenEndpointAuthMethod,
        scope: saved.scope,
      },
    });
    const view = toClientView(saved);
    if (!secret) return view;
    const { client_id, ...rest } = view;
    return { client_id, client_secret: secret, ...rest };
  }

  async list(limit = DEFAULT_PAGE_SIZE, cursor?: string): Promise<ClientListResponseDto> {
    let after;
    if (cursor !== undefined) {
      after = decodeCursor(cursor);
      if (!after) throw invalidFields({ cursor: ['cursor is not a cursor returned by this API'] });
    }
    // one row more than asked tells whether there is a next page
    const rows = await this.repository.pageAfter(limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => toClientView(r.entity)),
      next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].position) : null,
    };
  }

  async get(clientId: string): Promise<ClientResponseDto> {
    const entity = await this.repository.findById(clientId);
    if (!entity) throw notFound();
    return toClientView(entity);
  }

  async update(clientId: string, dto: UpdateClientDto, actor: ClientsActor): Promise<ClientResponseDto> {
    const saved = await this.changing(clientId, () => this.applyUpdate(clientId, dto, actor));
    return toClientView(saved);
  }

  /**
   * Runs a change to a client, then drops this instance's cached row (after the commit, even on failure:
   * the hot paths then re-read it at once; other instances within CLIENT_CACHE_TTL_MS).
   */
  private async changing<T>(clientId: string, change: () => Promise<T>): Promise<T> {
    try {
      return await change();
    } finally {
      this.cache.forget(clientId);
    }
  }

  private applyUpdate(clientId: string, dto: UpdateClientDto, actor: ClientsActor): Promise<ClientEntity> {
    return this.repository.transaction(async (manager) => {
      const entity = await this.repository.findByIdForUpdate(clientId, manager);
      if (!entity) throw notFound();
      const before = { ...entity };
      if (
        dto.token_endpoint_auth_method !== undefined &&
        (dto.token_endpoint_auth_method === 'none') !== (entity.tokenEndpointAuthMethod === 'none')
      )
        throw invalidFields({
          token_endpoint_auth_method: [
            'token_endpoint_auth_method cannot change between a public (none) and a confidential client: register a new client',
          ],
        });
      const changed: string[] = [];
      for (const [field, property] of Object.entries(FIELD_NAMES) as Array<
        [keyof UpdateClientDto, keyof ClientEntity]
      >) {
        const value = dto[field];
        if (value === undefined || JSON.stringify(value) === JSON.stringify(entity[property])) continue;
        (entity as unknown as Record<string, unknown>)[property] = value;
        changed.push(field);
      }
      // the merged client must satisfy every rule, not just the fields sent
      this.assertRules(entity, actor, splitScope(before.scope));
      if (changed.length === 0) return entity;
      const result = await this.repository.save(entity, manager);
      const narrowed = narrowsAccess(before, entity);
      if (narrowed) await this.revokeGrants(clientId, 'admin', actor, manager);
      // codes not yet exchanged were checked against the old registration: in the same transaction, so no
      // exchange can slip in after the change commits (requests awaiting login/consent are checked against the
      // current registration when the user decides)
      const voided =
        narrowed || removesRedirectUri(before, entity)
          ? await this.hooks.voidPendingAuthorizations(clientId, manager)
          : undefined;
      await this.audit.record({
        type: 'client.updated',
        outcome: 'success',
        clientId: actorClientId(actor),
        subject: clientId,
        details: {
          actor: actorName(actor),
          changed,
          ...(voided ? { voided_codes: voided.codes } : {}),
        },
        manager,
      });
      return result;
    });
  }

  /** Deletes the client; in the same transaction every grant (hence every token) of it is revoked. */
  async delete(clientId: string, actor: ClientsActor): Promise<void> {
    await this.changing(clientId, () => this.applyDelete(clientId, actor));
  }

  private applyDelete(clientId: string, actor: ClientsActor): Promise<void> {
    return this.repository.transaction(async (manager) => {
      const entity = await this.repository.findByIdForUpdate(clientId, manager);
      if (!entity) throw notFound();
      await this.revokeGrants(clientId, 'client_deleted', actor, manager);
      await this.repository.delete(clientId, manager);
      await this.audit.record({
        type: 'client.deleted',
        outcome: 'success',
        clientId: actorClientId(actor),
        subject: clientId,
        details: { actor: actorName(actor) },
        manager,
      });
    });
  }

  /**
   * A new 256-bit secret; the old one stays valid for CLIENT_SECRET_ROTATION_OVERLAP (0 = not at all).
   * A caller cannot take over a client more privileged than itself: rotating the secret of a client that
   * holds built-in scopes the caller lacks is refused (insufficient_scope).
   */
  async rotateSecret(clientId: string, actor: ClientsActor): Promise<{ client_secret: string }> {
    const entity = await this.repository.findById(clientId);
    if (!entity) throw notFound();
    if (entity.tokenEndpointAuthMethod === 'none')
      throw invalidFields({
        token_endpoint_auth_method: [
          'the client is public (token_endpoint_auth_method none) and has no secret',
        ],
      });
    if (actor.kind === 'client') {
      const missing = splitScope(entity.scope).filter(
        (s) => BUILTIN_SCOPES.includes(s) && !actor.scopes.includes(s),
      );
      if (missing.length)
        throw new OAuthError(
          'insufficient_scope',
          `rotating the secret of this client requires the scopes it holds: ${missing.join(' ')}`,
        );
    }
    const secret = randomToken();
    const overlap = this.oauth.clientSecretRotationOverlap;
    const rotated = await this.changing(clientId, () =>
      this.repository.rotateSecret(clientId, sha256Hex(secret), overlap),
    );
    if (!rotated) throw notFound();
    await this.audit.record({
      type: 'client.secret_rotated',
      outcome: 'success',
      clientId: actorClientId(actor),
      subject: clientId,
      details: { actor: actorName(actor), overlap_seconds: overlap },
    });
    return { client_secret: secret };
  }

  private assertRules(shape: ClientShape, actor: ClientsActor, previousScopes?: string[]): void {
    const ctx: RuleContext = {
      configuredScopes: this.oauth.scopes,
      grantableBuiltins:
        actor.kind === 'cli' ? 'all' : actor.scopes.filter((s) => BUILTIN_SCOPES.includes(s)),
      previousScopes,
    };
    const violations = clientRuleViolations(shape, ctx);
    if (Object.keys(violations).length) throw invalidFields(violations);
  }

  private async revokeGrants(
    clientId: string,
    cause: 'admin' | 'client_deleted',
    actor: ClientsActor,
    manager: EntityManager,
  ): Promise<void> {
    await this.revocations.revokeClientGrants(clientId, cause, actorName(actor), manager);
  }
}

/** Disabling, or taking away a scope or grant type, ends every live grant (their tokens carry the old rights). */
function narrowsAccess(before: ClientEntity, after: ClientEntity): boolean {
  if (before.enabled && !after.enabled) return true;
  const scopes = splitScope(after.scope);
  if (splitScope(before.scope).some((s) => !scopes.includes(s))) return true;
  return before.grantTypes.some((g) => !after.grantTypes.includes(g));
}

/** A removed redirect URI: codes and pending requests bound to it must not reach it any more. */
function removesRedirectUri(before: ClientEntity, after: ClientEntity): boolean {
  return before.redirectUris.some((u) => !after.redirectUris.includes(u));
}

function actorName(actor: ClientsActor): string {
  return actor.kind === 'cli' ? 'cli' : actor.clientId;
}

function actorClientId(actor: ClientsActor): string | null {
  return actor.kind === 'cli' ? null : actor.clientId;
}

function notFound(): NotFoundException {
  return new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'no such client' });
}
