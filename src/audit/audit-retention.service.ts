import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { Cron, CronExpression, SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CliCommand, CliError } from '../operations/cli-command.decorator';
import { auditConfig, type AuditConfig } from '../config/config.namespaces';
import { withAdvisoryLock } from '../database/migrator';
import { AuditPartitionsRepository } from './audit-partitions.repository';
import { AuditRollupsRepository } from './audit-rollups.repository';
import { DAY_MS, daysBetween, droppable } from './audit-partitions';

/** Rows deleted per statement outside whole partitions: each statement is short, so no long lock. */
export const PURGE_BATCH = 10_000;
/** A day is rolled up once it ended this long ago (events of its last moments are still being written). */
export const ROLLUP_AFTER_MS = 10 * 60_000;
/** Serialises partition maintenance across instances on one PostgreSQL ("auditmnt"). */
const MAINTENANCE_LOCK = '7310582399';
const DROP_ATTEMPTS = 5;

export interface PurgeResult {
  cutoff: string;
  dropped_partitions: string[];
  deleted_rows: number;
}

/**
 * Daily partitions created ahead (at start-up: yesterday … +7 days, then every hour, idempotent) and
 * retention: whole partitions older than the cutoff are dropped, the rest (default partition, the
 * partial day) deleted in batches. AUDIT_RETENTION applies every hour; `audit:purge --older-than` on demand.
 * Then closed days are rolled up for the security report (AuditRollupsRepository): at start-up in the
 * background, and every hour after retention.
 */
@Injectable()
export class AuditRetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('AuditRetention');
  /** In-process serialisation (the advisory lock serialises instances; PGlite has no advisory lock). */
  private queue: Promise<unknown> = Promise.resolve();
  static readonly DAYS_BEHIND = 1;
  static readonly DAYS_AHEAD = 7;

  /** the start-up rollup, awaited before the database closes */
  private startupRollup: Promise<unknown> | undefined;

  constructor(
    private readonly partitions: AuditPartitionsRepository,
    private readonly rollups: AuditRollupsRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(auditConfig.KEY) private readonly config: AuditConfig,
    /** present in the server (ScheduleModule), absent in the CLI's own process */
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.ensureAhead();
    } catch (err) {
      // never a reason not to start: rows land in the default partition meanwhile
      this.logger.warn(`could not create audit partitions: ${(err as Error).message}`);
    }
    // the server only (a CLI command run in its own process does not wait for it), and not awaited: a first
    // start on a large table rolls up many days, and nothing needs them to start
    if (this.scheduler)
      this.startupRollup = this.rollUp().catch((err) =>
        this.logger.warn(`could not roll up audit days: ${(err as Error).message}`),
      );
  }

  /** Shutdown: the start-up rollup ends before the database connection closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.startupRollup;
  }

  /** Hourly: partitions ahead, then retention (AUDIT_RETENTION). */
  @Cron(CronExpression.EVERY_HOUR, { name: 'audit-maintenance' })
  async maintain(): Promise<void> {
    try {
      await this.ensureAhead();
      const result = await this.purge(this.config.retention);
      if (result.dropped_partitions.length || result.deleted_rows)
        this.logger.log(
          `retention: dropped ${result.dropped_partitions.length} partition(s), deleted ${result.deleted_rows} row(s) older than ${result.cutoff}`,
        );
      await this.rollUp();
    } catch (err) {
      this.logger.error(`audit maintenance failed: ${(err as Error).message}`);
    }
  }

  /** Partitions from yesterday to DAYS_AHEAD days ahead. */
  ensureAhead(now = new Date()): Promise<string[]> {
    return this.ensureRange(
      new Date(now.getTime() - AuditRetentionService.DAYS_BEHIND * DAY_MS),
      new Date(now.getTime() + AuditRetentionService.DAYS_AHEAD * DAY_MS),
    );
  }

  /** Creates the daily partitions of [first, last] that do not exist yet; returns those created. */
  async ensureRange(first: Date, last: Date): Promise<string[]> {
    return this.exclusively(async () => {
      const created: string[] = [];
      for (const day of daysBetween(first, last)) {
        const result = await this.partitions.ensureDay(day);
        if (result === 'created') created.push(day.toISOString().slice(0, 10));
        if (result === 'blocked_by_default_rows')
          this.logger.warn(
            `audit partition for ${day.toISOString().slice(0, 10)} not created: the default partition ` +
              'holds rows of that day (they stay there and are still queried and purged)',
          );
      }
      return created;
    });
  }

  /** `npm run cli -- audit:purge --older-than 90d` */
  @CliCommand('audit:purge')
  async purgeCommand(options: {
    olderThanSeconds?: unknown;
  }): Promise<PurgeResult & Record<string, unknown>> {
    const seconds = options.olderThanSeconds;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
      throw new CliError('--older-than needs a duration like 90d');
    return { ...(await this.purge(seconds)) };
  }

  /**
   * Drops every daily partition wholly older than now − olderThanSeconds, then deletes the remaining
   * older rows in batches of PURGE_BATCH (each its own short statement, so inserts never wait long).
   */
  async purge(olderThanSeconds: number, now = new Date(), batch = PURGE_BATCH): Promise<PurgeResult> {
    const cutoff = new Date(now.getTime() - olderThanSeconds * 1000);
    return this.exclusively(async () => {
      const dropped: string[] = [];
      for (const name of droppable(await this.partitions.list(), cutoff)) {
        if (await this.dropWithRetry(name)) dropped.push(name);
      }
      let deleted = 0;
      for (;;) {
        const n = await this.partitions.deleteOlderThan(cutoff, batch);
        deleted += n;
        if (n < batch) break;
      }
      if (dropped.length || deleted)
        this.logger.log(
          `purged audit events older than ${cutoff.toISOString()}: ${dropped.length} partition(s) dropped, ${deleted} row(s) deleted`,
        );
      return { cutoff: cutoff.toISOString(), dropped_partitions: dropped, deleted_rows: deleted };
    });
  }

  /**
   * Rolls up every closed day (ended ROLLUP_AFTER_MS ago) whose partition has no valid rollup, newest first,
   * each in its own short transaction (on PGlite other work runs between two days); forgets the rollups of
   * partitions that are gone. Returns the days rolled up (YYYY-MM-DD).
   */
  async rollUp(now = new Date()): Promise<string[]> {
    const done: string[] = [];
    await this.exclusively(() => this.rollups.forgetVanished());
    const days = await this.rollups.unrolledClosedDays(new Date(now.getTime() - ROLLUP_AFTER_MS));
    for (const partition of days) {
      if (await this.exclusively(() => this.rollups.rollUpDay(partition)))
        done.push(partition.day.toISOString().slice(0, 10));
    }
    return done;
  }

  private exclusively<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => withAdvisoryLock(this.dataSource, MAINTENANCE_LOCK, fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async dropWithRetry(name: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.partitions.drop(name);
        return true;
      } catch (err) {
        const code = (err as { code?: string }).code;
        // 55P03 lock_not_available: a long query holds the table; wait a moment rather than queue inserts
        if (code !== '55P03' || attempt >= DROP_ATTEMPTS) {
          if (code === '55P03') {
            this.logger.warn(`audit partition ${name} is busy; it will be dropped at the next run`);
            return false;
          }
          throw err;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }
}
