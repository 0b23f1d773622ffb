import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { sql } from '../database/sql';
import { ClientEntity, type GrantType, type TokenEndpointAuthMethod } from './client.entity';
import type { ClientCursor } from '../http/keyset-cursor';

/** Raw row of the token-path lookup (one indexed query, no ORM hydration). */
export interface ClientAuthRow {
  client_id: string;
  client_name: string;
  token_endpoint_auth_method: string;
  secret_hash: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  scope: string;
  require_consent: boolean;
  enabled: boolean;
  dpop_bound_access_tokens: boolean;
  require_pushed_authorization_requests: boolean;
}

@Injectable()
export class ClientsRepository {
  constructor(@InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>) {}

  /** Hot path (authorize, token, revoke, introspect): plain row by primary key. */
  async findRow(clientId: string): Promise<ClientAuthRow | undefined> {
    const rows: ClientAuthRow[] = await this.clients.query(
      `SELECT client_id, client_name, token_endpoint_auth_method, secret_hash, previous_secret_hash,
              previous_secret_expires_at, redirect_uris, post_logout_redirect_uris, grant_types, scope,
              require_consent, enabled, dpop_bound_access_tokens, require_pushed_authorization_requests
         FROM clients WHERE client_id = $1`,
      [clientId],
    );
    return rows[0];
  }

  findById(clientId: string, manager?: EntityManager): Promise<ClientEntity | null> {
    return (manager?.getRepository(ClientEntity) ?? this.clients).findOneBy({ clientId });
  }

  insert(entity: ClientEntity, manager?: EntityManager): Promise<ClientEntity> {
    return (manager?.getRepository(ClientEntity) ?? this.clients).save(entity);
  }

  save(entity: ClientEntity, manager?: EntityManager): Promise<ClientEntity> {
    return (manager?.getRepository(ClientEntity) ?? this.clients).save(entity);
  }

  /** Keyset page ordered by (created_at, client_id). */
  page(limit: number, after?: { createdAt: Date; clientId: string }): Promise<ClientEntity[]> {
    const qb = this.clients
      .createQueryBuilder('c')
      .orderBy('c.created_at', 'ASC')
      .addOrderBy('c.client_id', 'ASC');
    if (after)
      qb.where('(c.created_at, c.client_id) > (:createdAt, :clientId)', {
        createdAt: after.createdAt,
        clientId: after.clientId,
      });
    return qb.limit(limit).getMany();
  }

  async delete(clientId: string, manager: EntityManager): Promise<boolean> {
    const result = await manager.getRepository(ClientEntity).delete({ clientId });
    return (result.affected ?? 0) > 0;
  }

  /** Runs `fn` in one transaction; inside it, pass the manager to every repository call. */
  transaction<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.clients.manager.transaction(fn);
  }

  /** The client, row-locked until the transaction ends (PATCH: read-merge-validate-write without lost updates). */
  findByIdForUpdate(clientId: string, manager: EntityManager): Promise<ClientEntity | null> {
    return manager
      .getRepository(ClientEntity)
      .findOne({ where: { clientId }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * Keyset page ordered by (created_at, client_id), each row with its cursor position. created_at is
   * compared at PostgreSQL's microsecond precision (as text), which a JS Date would truncate.
   */
  async pageAfter(
    limit: number,
    after?: ClientCursor,
  ): Promise<Array<{ entity: ClientEntity; position: ClientCursor }>> {
    const select = `SELECT client_id, client_name, token_endpoint_auth_method, redirect_uris, grant_types, scope,
                           require_consent, enabled, created_by, created_at, updated_at,
                           dpop_bound_access_tokens, require_pushed_authorization_requests,
                           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
                      FROM clients`;
    const rows: Array<Record<string, unknown>> = after
      ? await this.clients.query(
          `${select} WHERE (created_at, client_id) > ($1::timestamptz, $2::varchar)
            ORDER BY created_at, client_id LIMIT $3`,
          [after.createdAt, after.clientId, limit],
        )
      : await this.clients.query(`${select} ORDER BY created_at, client_id LIMIT $1`, [limit]);
    return rows.map((row) => ({
      entity: Object.assign(new ClientEntity(), {
        clientId: row.client_id as string,
        clientName: row.client_name as string,
        tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
        secretHash: null,
        previousSecretHash: null,
        previousSecretExpiresAt: null,
        redirectUris: row.redirect_uris as string[],
        grantTypes: row.grant_types as GrantType[],
        scope: row.scope as string,
        requireConsent: row.require_consent as boolean,
        enabled: row.enabled as boolean,
        dpopBoundAccessTokens: row.dpop_bound_access_tokens as boolean,
        requirePushedAuthorizationRequests: row.require_pushed_authorization_requests as boolean,
        createdBy: row.created_by as string | null,
        createdAt: new Date(row.created_at as string),
        updatedAt: new Date(row.updated_at as string),
      }),
      position: { createdAt: row.position as string, clientId: row.client_id as string },
    }));
  }

  /**
   * Secret rotation as ONE atomic UPDATE (concurrent rotations serialise on the row lock, each seeing the
   * previous one's result): the new hash becomes current; with an overlap the outgoing hash stays valid
   * until now() + overlap, without one it is forgotten. False when there is no such confidential client.
   */
  async rotateSecret(clientId: string, secretHash: string, overlapSeconds: number): Promise<boolean> {
    const rows = await sql<{ client_id: string }>(
      this.clients.manager,
      `UPDATE clients
          SET previous_secret_hash = CASE WHEN $3::int > 0 THEN secret_hash END,
              previous_secret_expires_at = CASE WHEN $3::int > 0 THEN now() + make_interval(secs => $3::int) END,
              secret_hash = $2,
              updated_at = now()
        WHERE client_id = $1 AND token_endpoint_auth_method <> 'none'
        RETURNING client_id`,
      [clientId, secretHash, overlapSeconds],
    );
    return rows.length === 1;
  }
}
