import {
  CanActivate,
  Controller,
  Get,
  Inject,
  Injectable,
  NotFoundException,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../http/http';
import { RequireScopes } from '../api-auth/api-auth.guard';
import { LatchkeyMetrics } from './latchkey-metrics';
import { metricsConfig, type MetricsConfig } from './metrics.config';

/** GET /metrics exists on the main port only with METRICS=bearer: otherwise 404, before any token check. */
@Injectable()
export class MetricsOnMainPortGuard implements CanActivate {
  constructor(@Inject(metricsConfig.KEY) private readonly config: MetricsConfig) {}

  canActivate(): boolean {
    if (this.config.mode !== 'bearer') throw new NotFoundException('Cannot GET /metrics');
    return true;
  }
}

/** GET /metrics (docs/operations.md, Metrics): Prometheus text, for a client_credentials token with metrics:read. */
@ApiTags('metrics')
@Controller('metrics')
@UseGuards(MetricsOnMainPortGuard)
export class MetricsController {
  constructor(private readonly metrics: LatchkeyMetrics) {}

  @Get()
  @RequireScopes('metrics:read')
  @ApiOperation({
    summary: 'Prometheus metrics (METRICS=bearer; 404 otherwise)',
    description:
      'Request counts and latency per route pattern and status class, tokens issued per grant type, PKCE, ' +
      'client-authentication and rate-limit refusals, the audit writer queue and flushes, the database pool.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'the Prometheus text exposition format, version 0.0.4' })
  async scrape(@Res() res: HttpReply): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    await res.header('Content-Type', contentType).header('Cache-Control', 'no-store').send(body);
  }
}
