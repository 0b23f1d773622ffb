import { randomUUID } from 'node:crypto';
import { Injectable, BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AuditEmitter, type AuditEventInput, type AuditEventType } from './events';

/** Emitted when an aggregated audit row's count must be brought up to date (the audit listener stores it). */
export const AUDIT_COUNT_EVENT = 'audit.count';
/**
 * Emitted (synchronously, unawaited) for every event `record` aggregates, written or only counted (metrics);
 * events written as rows of their own (`individually`) reach the audit listeners like any other event.
 */
export const REFUSAL_EVENT = 'audit.refusal';

/** One aggregated row: `details.aggregate_id` names it, `details.count` is set to `count`. */
export interface AuditCountUpdate {
  type: AuditEventType;
  aggregateId: string;
  /** the row was written at or after this time (narrows the lookup to the window's partition) */
  since: Date;
  count: number;
}

interface Open {
  type: AuditEventType;
  windowStart: number;
  windowMs: number;
  /** events of the window written as rows of their own so far (see `individually`) */
  individual: number;
  /** the aggregated row, once one was written */
  aggregateId?: string;
  count: number;
}

/** How many (type, key) windows are remembered at most; the oldest is closed (its count stored) beyond. */
export const REFUSAL_AUDIT_MAX_KEYS = 20_000;
const SWEEP_MS = 1000;

/**
 * Refusals that an attacker can repeat at will (`request.rate_limited`, `api.access_denied`) are audited once
 * per key and window (docs/abuse-protection.md): the first refusal writes its row at once, with
 * `details.count: 1` and an `aggregate_id`; later ones in the same window are only counted in memory, and when
 * the window ends (or the entry is pushed out, or the server stops) one UPDATE per row sets the final count.
 * A flood of N refusals therefore costs one INSERT and one UPDATE instead of N INSERTs. Each instance
 * aggregates on its own: with several instances, one row per key, window and instance.
 */
@Injectable()
export class RefusalAuditor implements OnModuleInit, BeforeApplicationShutdown {
  private readonly open = new Map<string, Open>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditEmitter,
    private readonly events: EventEmitter2,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(Date.now()).catch(() => undefined), SWEEP_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sweep(Number.POSITIVE_INFINITY).catch(() => undefined);
  }

  /** Windows open in memory (bounded by REFUSAL_AUDIT_MAX_KEYS). */
  get size(): number {
    return this.open.size;
  }

  /**
   * Audits `event` unless one was already written for `key` in the current window of `windowMs`; returns
   * whether a row was written. With `individually` = N, the first N events of the window get rows of their own,
   * exactly as without aggregation, and only the rest share one aggregated row (for events that are part of
   * normal use but that anyone can repeat at will, e.g. `authorization.requested` before sign-in).
   */
  async record(key: string, windowMs: number, event: AuditEventInput, individually = 0): Promise<boolean> {
    const now = Date.now();
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const id = `${event.type}|${key}`;
    const current = this.open.get(id);
    if (current && current.windowStart === windowStart) {
      if (current.individual < individually) {
        current.individual++;
        await this.audit.record(event);
        return true;
      }
      this.counted(event);
      if (current.aggregateId) {
        current.count++;
        return false;
      }
      current.aggregateId = randomUUID();
      current.count = 1;
      await this.recordAggregated(event, current.aggregateId);
      return true;
    }
    if (current) {
      this.open.delete(id);
      await this.close([current]);
    }
    const entry: Open = { type: event.type, windowStart, windowMs, individual: 0, count: 0 };
    this.open.set(id, entry);
    if (this.open.size > REFUSAL_AUDIT_MAX_KEYS) {
      const [oldestId, oldest] = this.open.entries().next().value as [string, Open];
      this.open.delete(oldestId);
      void this.close([oldest]).catch(() => undefined);
    }
    if (individually > 0) {
      entry.individual = 1;
      await this.audit.record(event);
      return true;
    }
    this.counted(event);
    entry.aggregateId = randomUUID();
    entry.count = 1;
    await this.recordAggregated(event, entry.aggregateId);
    return true;
  }

  private counted(event: AuditEventInput): void {
    if (this.events.hasListeners(REFUSAL_EVENT)) this.events.emit(REFUSAL_EVENT, event);
  }

  private recordAggregated(event: AuditEventInput, aggregateId: string): Promise<void> {
    return this.audit.record({
      ...event,
      details: { ...event.details, count: 1, aggregate_id: aggregateId },
    });
  }

  /** Closes every window that ended before `now`, storing the counts of those refused more than once. */
  async sweep(now: number): Promise<void> {
    const ended: Open[] = [];
    for (const [id, e] of this.open) {
      // windows are aligned to the clock and entries are in insertion order: the rest are live too
      if (e.windowStart + e.windowMs > now) break;
      this.open.delete(id);
      ended.push(e);
    }
    await this.close(ended);
  }

  private async close(entries: Open[]): Promise<void> {
    const updates: AuditCountUpdate[] = entries
      .filter((e) => e.aggregateId !== undefined && e.count > 1)
      .map((e) => ({
        type: e.type,
        aggregateId: e.aggregateId!,
        since: new Date(e.windowStart),
        count: e.count,
      }));
    if (updates.length) await this.events.emitAsync(AUDIT_COUNT_EVENT, updates);
  }
}
