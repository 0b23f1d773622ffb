import { ClientEntity } from './clients/client.entity';
import { AuditEventEntity } from './audit/audit-event.entity';
import { SigningKeyEntity } from './keys/signing-key.entity';
import { UserEntity } from './users/user.entity';

/**
 * Every TypeORM entity, listed explicitly for the TypeORM migration CLI (src/typeorm-cli.ts: migration:generate
 * compares them with the schema). The app and the CLI do not use this list: each module registers its own
 * entities with TypeOrmModule.forFeature. Add a new entity both there and here.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity list type
export const ENTITIES: Function[] = [AuditEventEntity, SigningKeyEntity, ClientEntity, UserEntity];
