import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { ReadinessCheck } from '../common/readiness';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Optional() @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[] = [],
  ) {}

  /** 200 while the process runs. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** 200 when the database answers and every readiness check (signing key, …) passes; 503 otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      ...this.checks.map((check) => async () => {
        const indicator = this.indicators.check(check.name);
        const ok = await Promise.resolve()
          .then(() => check.isReady())
          .catch(() => false);
        return ok ? indicator.up() : indicator.down({ message: `${check.name} not ready` });
      }),
    ]);
  }
}
