import { ConfigModule } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AuditModule } from './audit/audit.module';
import { AuditConsoleModule } from './audit-console/audit-console.module';
import { AuthorizationModule } from './authorization/authorization.module';
import { ClientsModule } from './clients/clients.module';
import { EventsModule } from './events/events.module';
import { LatchkeyExtensionsModule } from './extensions/extensions.module';
import { ALL_NAMESPACES } from './config/config.namespaces';
import { DatabaseModule } from './database/database.module';
import { KeysModule } from './keys/keys.module';
import { TokensModule } from './tokens/tokens.module';
import { UsersModule } from './users/users.module';

/** Configuration, events and the database: shared by the HTTP app and the CLI's own process. */
export const INFRASTRUCTURE_MODULES = [
  ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: ALL_NAMESPACES }),
  EventEmitterModule.forRoot({ wildcard: false }),
  DatabaseModule,
  EventsModule,
  LatchkeyExtensionsModule,
];

/** The feature modules (docs/architecture.md): each exports services, never repositories. */
export const FEATURE_MODULES = [
  KeysModule,
  ClientsModule,
  UsersModule,
  AuthorizationModule,
  TokensModule,
  AuditModule,
  AuditConsoleModule,
];
