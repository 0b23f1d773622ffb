import type { Server } from 'node:http';
import {
  Inject,
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { AuditWriter } from '../audit/audit-writer';
import { AUDIT_EVENT, type AuditEventInput, type AuditEventPayload } from '../events/events';
import { REFUSAL_EVENT } from '../events/refusal-auditor';
import { PGlitePool } from '../database/pglite-pool';
import { ApiAuthModule } from '../api-auth/api-auth.module';
import { AuditMetricsListener } from './audit-metrics.listener';
import { registerHttpMetrics } from './http-metrics';
import { LatchkeyMetrics, type PoolUsage } from './latchkey-metrics';
import { MetricsController, MetricsOnMainPortGuard } from './metrics.controller';
import { metricsConfig, type MetricsConfig } from './metrics.config';
import { startMetricsServer, stopMetricsServer } from './metrics-port.server';

const ROUTE_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] as const;

/** The database pool's use: node-postgres' pool on PostgreSQL, the one leased session on PGlite. */
function poolUsageOf(dataSource: DataSource): PoolUsage {
  return () => {
    const pool = (dataSource.driver as unknown as { master?: Pool | PGlitePool }).master;
    if (!pool) return null;
    if (pool instanceof PGlitePool) {
      const u = pool.usage;
      return { total: u.total, busy: u.busy, idle: u.total - u.busy, waiting: u.waiting, max: 1 };
    }
    return {
      total: pool.totalCount,
      busy: pool.totalCount - pool.idleCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max ?? 10,
    };
  };
}

/**
 * Wires the metrics in when METRICS is not `off` (nothing is collected otherwise): the HTTP hook on Fastify
 * (added before the server is ready, so it applies to every route), the audit event subscription, the audit
 * writer's flush observer, and with `port:<n>` the separate listener.
 */
@Injectable()
class MetricsWiring implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;

  constructor(
    @Inject(metricsConfig.KEY) private readonly config: MetricsConfig,
    private readonly metrics: LatchkeyMetrics,
    private readonly adapterHost: HttpAdapterHost,
    private readonly events: EventEmitter2,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    if (this.config.mode === 'off') return;
    this.metrics.collectProcessMetrics();
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify) registerHttpMetrics(fastify, this.metrics);
    const isRoute = (url: string) =>
      !!fastify && ROUTE_METHODS.some((method) => fastify.hasRoute({ url, method }));
    const listener = new AuditMetricsListener(this.metrics, isRoute);
    this.events.on(AUDIT_EVENT, (event: AuditEventPayload) => listener.onAuditEvent(event));
    this.events.on(REFUSAL_EVENT, (event: AuditEventInput) => listener.onRefusal(event));
    const writer = this.moduleRef.get(AuditWriter, { strict: false });
    writer.flushObserver = (seconds, rows, ok) => {
      const result = ok ? 'ok' : 'failed';
      this.metrics.auditFlushDuration.observe({ result }, seconds);
      this.metrics.auditFlushRows.inc({ result }, rows);
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.mode === 'port')
      this.server = await startMetricsServer(this.metrics, this.config.port, this.config.host);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.server) await stopMetricsServer(this.server);
    this.server = undefined;
  }
}

/**
 * GET /metrics in Prometheus format (prom-client), per METRICS: `bearer` (default; the `metrics:read` scope),
 * `port:<n>` (an open listener on METRICS_HOST) or `off`. See docs/operations.md, Metrics.
 */
@Module({
  imports: [ConfigModule.forFeature(metricsConfig), ApiAuthModule],
  controllers: [MetricsController],
  providers: [
    {
      provide: LatchkeyMetrics,
      inject: [ModuleRef, DataSource],
      useFactory: (moduleRef: ModuleRef, dataSource: DataSource) => {
        // looked up when first collected: at this point the writer may not be constructed yet
        let writer: AuditWriter | undefined;
        const queue = () => {
          writer ??= moduleRef.get(AuditWriter, { strict: false });
          return writer?.pending ?? 0;
        };
        return new LatchkeyMetrics(queue, poolUsageOf(dataSource));
      },
    },
    MetricsOnMainPortGuard,
    MetricsWiring,
  ],
  exports: [LatchkeyMetrics],
})
export class MetricsModule {}
