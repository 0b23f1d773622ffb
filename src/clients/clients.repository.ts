import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { sql } from '../database/sql';
import { ClientEntity } from './client.entity';

/** Raw row of the token-path lookup (one indexed query, no ORM hydration). */
export interface ClientAuthRow {
  client_id: string;
  client_name: string;
  token_endpoint_auth_method: string;
  secret_hash: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  redirect_uris: string[];
  grant_types: string[];
  scope: string;
  require_consent: boolean;
  enabled: boolean;
}

@Injectable()
export class ClientsRepository {
  constructor(@InjectRepository(ClientEntity) private readonly clients: Repository<ClientEntity>) {}

  /** Hot path (authorize, token, revoke, introspect): plain row by primary key. */
  async findRow(clientId: string): Promise<ClientAuthRow | undefined> {
    const rows: ClientAuthRow[] = await this.clients.query(
      `SELECT client_id, client_name, token_endpoint_auth_method, secret_hash, previous_secret_hash,
              previous_secret_expires_at, redirect_uris, grant_types, scope, require_consent, enabled
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

  /**
   * Revokes every live grant of a client at once (disable or delete); returns them for the audit trail.
   * Introspection and the bearer guard also check `clients.enabled`, so this is belt and braces.
   */
  async revokeGrants(
    clientId: string,
    cause: string,
    manager: EntityManager,
  ): Promise<Array<{ id: string; user_id: string | null }>> {
    return sql<{ id: string; user_id: string | null }>(
      manager,
      `UPDATE grants SET revoked_at = now(), revoke_cause = $2
        WHERE client_id = $1 AND revoked_at IS NULL RETURNING id, user_id`,
      [clientId, cause],
    );
  }
}
