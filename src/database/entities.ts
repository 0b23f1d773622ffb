import { ClientEntity } from '../clients/client.entity';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { SigningKeyEntity } from '../keys/signing-key.entity';
import { UserEntity } from '../users/user.entity';

/**
 * Every TypeORM entity, listed explicitly (no globs: the same list serves the compiled app, the CLI,
 * the migration CLI and the tests running TypeScript directly). Add a module's entities here.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- TypeORM's own entity list type
export const ENTITIES: Function[] = [AuditEventEntity, SigningKeyEntity, ClientEntity, UserEntity];
