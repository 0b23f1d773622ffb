import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { withAdvisoryLock } from '../database/migrator';
import { SigningKeyEntity } from './signing-key.entity';

const KEY_LOCK = '7310582398';

@Injectable()
export class SigningKeysRepository {
  constructor(
    @InjectRepository(SigningKeyEntity) private readonly keys: Repository<SigningKeyEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Keys still published: not expired. Newest activation first. */
  findPublished(): Promise<SigningKeyEntity[]> {
    return this.keys
      .createQueryBuilder('k')
      .where('k.expires_at IS NULL OR k.expires_at > now()')
      .orderBy('k.activates_at', 'DESC')
      .getMany();
  }

  /** Serialises key creation across instances (first start, rotation). */
  exclusively<T>(fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return withAdvisoryLock(this.dataSource, KEY_LOCK, () => fn(this.dataSource.manager));
  }

  /**
   * Adds a key that becomes current at `activatesAt`; every older key stops signing then and leaves the
   * JWKS once every token it can have signed has expired (`activatesAt + maxTokenLifetime`).
   */
  async insertAndRetireOthers(
    manager: EntityManager,
    key: SigningKeyEntity,
    maxTokenLifetimeSeconds: number,
  ) {
    await manager.transaction(async (tx) => {
      await tx
        .createQueryBuilder()
        .update(SigningKeyEntity)
        .set({
          retiredAt: () => 'COALESCE(retired_at, :activates)',
          expiresAt: () => `COALESCE(expires_at, :activates::timestamptz + make_interval(secs => :ttl))`,
        })
        .setParameters({ activates: key.activatesAt, ttl: maxTokenLifetimeSeconds + 60 })
        .where('kid <> :kid', { kid: key.kid })
        .execute();
      await tx.save(SigningKeyEntity, key);
    });
  }
}
