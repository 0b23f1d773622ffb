import { Module } from '@nestjs/common';
import { FEATURE_MODULES, INFRASTRUCTURE_MODULES } from './app-modules';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { OperationsModule } from './operations/operations.module';
import { loggerParams } from './http/logging';
import { serverConfig, ServerConfig } from './config/config.namespaces';
import { HealthModule } from './health/health.module';
import { HomeModule } from './home/home.module';
import { HousekeepingModule } from './housekeeping/housekeeping.module';
import { KeyStore } from './keys/key-store.service';
import { KeysModule } from './keys/keys.module';
import { MetricsModule } from './metrics/metrics.module';

/** The HTTP app: infrastructure, logging, the scheduler, the feature modules and the modules only a server runs. */
@Module({
  imports: [
    ...INFRASTRUCTURE_MODULES,
    LoggerModule.forRootAsync({
      inject: [serverConfig.KEY],
      useFactory: (server: ServerConfig) => loggerParams(server.logLevel, server.logFormat),
    }),
    ScheduleModule.forRoot(),
    ...FEATURE_MODULES,
    RateLimitModule,
    HousekeepingModule,
    OperationsModule,
    HealthModule.register([KeysModule], [KeyStore]),
    HomeModule,
    MetricsModule,
  ],
})
export class AppModule {}
