import { HttpException, Inject, Injectable } from '@nestjs/common';
import { AuditEmitter } from '../events/events';
import { auditConfig, type AuditConfig } from '../config/config.namespaces';
import type { HttpReply } from '../http/http';

/** Seconds a refused auditor is told to wait. */
export const AUDIT_BUSY_RETRY_AFTER = 5;

/**
 * The bound on expensive audit queries (issue 20, finding 5): at most AUDIT_QUERY_CONCURRENCY security reports
 * and CSV exports run at once in this process; one more is refused at once with 429 and Retry-After (and
 * audited as request.rate_limited), instead of queueing behind them and taking the database with it.
 */
@Injectable()
export class AuditQueryLimiter {
  private running = 0;

  constructor(
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
    private readonly audit: AuditEmitter,
  ) {}

  /** Runs `work` holding one of the slots, or throws 429 when none is free. */
  async run<T>(route: string, res: HttpReply, clientId: string | null, work: () => Promise<T>): Promise<T> {
    if (this.running >= this.config.queryConcurrency) {
      void res.header('Retry-After', String(AUDIT_BUSY_RETRY_AFTER));
      await this.audit.record({
        type: 'request.rate_limited',
        outcome: 'failure',
        reason: 'rate_limited',
        clientId,
        details: { route, limit: 'audit_concurrency' },
      });
      throw new HttpException(
        {
          statusCode: 429,
          error: 'Too Many Requests',
          message: [
            `at most ${this.config.queryConcurrency} security reports and CSV exports run at once: retry after ${AUDIT_BUSY_RETRY_AFTER} s`,
          ],
        },
        429,
      );
    }
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
    }
  }
}
