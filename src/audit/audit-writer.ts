import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { auditConfig, type AuditConfig } from '../config/config.namespaces';
import { isDatabaseUnavailable } from '../common/database-errors';
import { AuditEventsRepository } from './audit-events.repository';
import type { AuditRow } from './audit-row';

interface Pending {
  row: AuditRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A full buffer is flushed at once, without waiting for the interval. */
export const AUDIT_BATCH_MAX = 200;
/** At most this many flushes run at once; meanwhile the buffer grows, so batches get larger under load. */
export const AUDIT_MAX_CONCURRENT_FLUSHES = 2;

/**
 * Group commit: every caller awaits one shared multi-row INSERT, flushed every AUDIT_FLUSH_INTERVAL_MS
 * (or as soon as AUDIT_BATCH_MAX rows wait). A caller's promise resolves only once its row is committed,
 * so the event is durable before the response it belongs to is sent; a failed flush rejects its callers
 * (the request fails rather than losing the event). When a batch fails for a reason other than the
 * database being unreachable, its rows are retried one by one so that one bad row fails only its request.
 */
@Injectable()
export class AuditWriter implements BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditWriter');
  private buffer: Pending[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private inFlight = 0;
  private readonly flushes = new Set<Promise<void>>();
  private closing = false;
  /** Told each batch's duration and size (set by the metrics module; none by default). */
  flushObserver?: (seconds: number, rows: number, ok: boolean) => void;

  constructor(
    private readonly repository: AuditEventsRepository,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
  ) {}

  /** Resolves once the row is committed. */
  write(row: AuditRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.buffer.push({ row, resolve, reject });
      if (this.buffer.length >= AUDIT_BATCH_MAX || this.closing) this.flushSoon(true);
      else this.flushSoon(false);
    });
  }

  /** Rows waiting for their flush (for tests and metrics). */
  get pending(): number {
    return this.buffer.length;
  }

  /** Writes everything buffered and waits for every flush in flight. */
  async drain(): Promise<void> {
    this.cancelTimer();
    while (this.buffer.length > 0 || this.flushes.size > 0) {
      if (this.buffer.length > 0) this.startFlush();
      await Promise.allSettled([...this.flushes]);
    }
  }

  /** Shutdown: no event is lost. Runs before the database connection closes (onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.drain();
  }

  private flushSoon(now: boolean) {
    if (now) {
      this.cancelTimer();
      this.startFlush();
      return;
    }
    if (this.timer) return;
    const interval = this.config.flushIntervalMs;
    const fire = () => {
      this.timer = undefined;
      this.startFlush();
    };
    this.timer = interval > 0 ? setTimeout(fire, interval) : setImmediate(fire);
  }

  private cancelTimer() {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = undefined;
  }

  private startFlush() {
    if (this.buffer.length === 0) return;
    // Back-pressure: with enough flushes running, the next one starts when one of them completes.
    if (this.inFlight >= AUDIT_MAX_CONCURRENT_FLUSHES) return;
    const batch = this.buffer.splice(0, AUDIT_BATCH_MAX);
    this.inFlight++;
    const flush = this.insert(batch).finally(() => {
      this.inFlight--;
      this.flushes.delete(flush);
      if (this.buffer.length >= AUDIT_BATCH_MAX || this.closing) this.flushSoon(true);
      else if (this.buffer.length > 0) this.flushSoon(false);
    });
    this.flushes.add(flush);
  }

  private async insert(batch: Pending[]): Promise<void> {
    const started = this.flushObserver ? process.hrtime.bigint() : 0n;
    const observe = (ok: boolean) =>
      this.flushObserver?.(Number(process.hrtime.bigint() - started) / 1e9, batch.length, ok);
    try {
      await this.repository.insertMany(batch.map((p) => p.row));
      observe(true);
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      observe(false);
      if (batch.length === 1 || isDatabaseUnavailable(err)) {
        this.logger.error(`audit flush of ${batch.length} event(s) failed: ${(err as Error)?.message}`);
        for (const p of batch) p.reject(err);
        return;
      }
    }
    // Isolate the bad row(s): one statement each.
    for (const p of batch) {
      try {
        await this.repository.insertMany([p.row]);
        p.resolve();
      } catch (err) {
        this.logger.error(`audit event ${p.row.type} could not be stored: ${(err as Error)?.message}`);
        p.reject(err);
      }
    }
  }
}
