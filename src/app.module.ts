import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AbuseModule } from './abuse/abuse.module';
import { AuditModule } from './audit/audit.module';
import { AuditConsoleModule } from './audit-console/audit-console.module';
import { AuthorizationModule } from './authorization/authorization.module';
import { CliSupportModule } from './cli/cli-support.module';
import { ClientsModule } from './clients/clients.module';
import { CommonModule } from './common/common.module';
import { loggerParams } from './common/logging';
import { ALL_NAMESPACES, serverConfig, ServerConfig } from './config/config.namespaces';
import { DatabaseModule } from './database/database.module';
import { LatchkeyExtensionsModule } from './extensions/extensions.module';
import { HealthModule } from './health/health.module';
import { HomeModule } from './home/home.module';
import { HousekeepingModule } from './housekeeping/housekeeping.module';
import { KeyStore } from './keys/key-store.service';
import { KeysModule } from './keys/keys.module';
import { MetricsModule } from './metrics/metrics.module';
import { TokensModule } from './tokens/tokens.module';
import { UsersModule } from './users/users.module';

/** Configuration, events and the database: shared by the HTTP app and the CLI's own process. */
export const INFRASTRUCTURE_MODULES = [
  ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: ALL_NAMESPACES }),
  EventEmitterModule.forRoot({ wildcard: false }),
  DatabaseModule,
  CommonModule,
  LatchkeyExtensionsModule,
];

/** The feature modules (ARCHITECTURE.md): each exports services, never repositories. */
export const FEATURE_MODULES = [
  KeysModule,
  ClientsModule,
  UsersModule,
  AuthorizationModule,
  TokensModule,
  AuditModule,
  AuditConsoleModule,
];

@Module({
  imports: [
    ...INFRASTRUCTURE_MODULES,
    LoggerModule.forRootAsync({
      inject: [serverConfig.KEY],
      useFactory: (server: ServerConfig) => loggerParams(server.logLevel, server.logFormat),
    }),
    ScheduleModule.forRoot(),
    ...FEATURE_MODULES,
    AbuseModule,
    HousekeepingModule,
    CliSupportModule,
    HealthModule.register([KeysModule], [KeyStore]),
    HomeModule,
    MetricsModule,
  ],
})
export class AppModule {}
