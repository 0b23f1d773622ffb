import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Where the database pool figures come from (node-postgres' pool or the PGlite lease). */
export type PoolUsage = () => {
  total: number;
  busy: number;
  idle: number;
  waiting: number;
  max: number;
} | null;

/**
 * Every metric of GET /metrics, in one registry per application (never prom-client's global one: tests start
 * several apps in one process). Names follow Prometheus conventions: `latchkey_` prefix, `_total` counters,
 * `_seconds` histograms. Labels are bounded sets only: route patterns, never raw paths; reason codes from the
 * one taxonomy (src/common/audit-reasons.ts), never anything a caller writes.
 */
export class LatchkeyMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'latchkey_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'latchkey_http_request_duration_seconds',
    help: 'HTTP request latency (arrival to response sent), by method, route pattern and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly auditEvents = new Counter({
    name: 'latchkey_audit_events_total',
    help: 'Audit events emitted, by type and outcome (aggregated refusals counted one by one)',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly tokensIssued = new Counter({
    name: 'latchkey_tokens_issued_total',
    help: 'Token responses issued by the token endpoint, by grant type',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });

  readonly tokenRequestFailures = new Counter({
    name: 'latchkey_token_request_failures_total',
    help: 'Refused token requests (token.request_failed), by grant type and reason',
    labelNames: ['grant_type', 'reason'] as const,
    registers: [this.registry],
  });

  readonly pkceFailures = new Counter({
    name: 'latchkey_pkce_failures_total',
    help: 'PKCE refusals, by stage (authorize: the challenge; token: the verifier) and reason',
    labelNames: ['stage', 'reason'] as const,
    registers: [this.registry],
  });

  readonly clientAuthFailures = new Counter({
    name: 'latchkey_client_auth_failures_total',
    help: 'Client authentication failures (client.authentication_failed), by reason and endpoint',
    labelNames: ['reason', 'endpoint'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'latchkey_rate_limited_total',
    help: 'Requests refused by a rate limit or capacity limit, by limit and route pattern',
    labelNames: ['limit', 'route'] as const,
    registers: [this.registry],
  });

  readonly apiAccessDenied = new Counter({
    name: 'latchkey_api_access_denied_total',
    help: 'Admin, audit and metrics API refusals (api.access_denied), by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly auditFlushDuration = new Histogram({
    name: 'latchkey_audit_flush_duration_seconds',
    help: 'Audit writer group commits: duration of one multi-row INSERT, by result',
    labelNames: ['result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });

  readonly auditFlushRows = new Counter({
    name: 'latchkey_audit_flushed_rows_total',
    help: 'Audit rows written by group commits, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly queueDepth: Gauge;
  private readonly pool: Gauge;

  constructor(auditQueue: () => number, poolUsage: PoolUsage) {
    this.queueDepth = new Gauge({
      name: 'latchkey_audit_writer_queue_depth',
      help: 'Audit rows waiting for their group commit',
      registers: [this.registry],
      collect() {
        this.set(auditQueue());
      },
    });
    this.pool = new Gauge({
      name: 'latchkey_db_pool_connections',
      help: 'Database pool connections by state (total, busy, idle), callers waiting for one, and the maximum',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const usage = poolUsage();
        if (!usage) return;
        for (const state of ['total', 'busy', 'idle', 'waiting', 'max'] as const)
          this.set({ state }, usage[state]);
      },
    });
  }

  /** prom-client's process and Node.js metrics (CPU, memory, event loop delay, GC): only when METRICS is on. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition (version 0.0.4). */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
