import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { ReadinessCheck } from '../common/readiness';
import { SharedPing } from './shared-ping';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

@ApiExcludeController()
@Controller('health')
export class HealthController {
  private readonly databasePing = new SharedPing(async () =>
    this.db.pingCheck('database', { timeout: 2000 }),
  );

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

  /**
   * 200 when the database answers (a ping shared by every caller, at most READINESS_PING_MAX_AGE_MS old: see
   * SharedPing) and every readiness check (signing key, …) passes; 503 otherwise.
   */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.databasePing.check(),
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
