import { DynamicModule, Module, Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, READINESS_CHECKS } from './health.controller';
import { ReadinessCheck } from '../common/readiness';

@Module({})
export class HealthModule {
  /**
   * `imports` are the modules exporting the readiness checks' providers (e.g. KeysModule exports KeyStore).
   */
  static register(
    imports: Array<Type<unknown> | DynamicModule>,
    checks: Array<Type<ReadinessCheck>>,
  ): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false, errorLogStyle: 'pretty' }), ...imports],
      controllers: [HealthController],
      providers: [
        {
          provide: READINESS_CHECKS,
          inject: checks,
          useFactory: (...instances: ReadinessCheck[]) => instances,
        },
      ],
    };
  }
}
