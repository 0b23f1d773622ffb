import {
  Inject,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { AuditSinkExtension, type AuditSink, type AuditSinkEvent } from '../../../src/extensions';

export interface SiemOptions {
  /** POST the events as JSON lines (application/x-ndjson) to this URL; without it, write them to `stream` */
  url?: string;
  /** where JSON lines go without a URL (default: stdout) */
  stream?: NodeJS.WritableStream;
  /** events per POST at most, and the longest an event waits for its POST (ms) */
  batchSize?: number;
  flushIntervalMs?: number;
}
export const SIEM_OPTIONS = Symbol('SIEM_OPTIONS');

/**
 * (c) Every audit event forwarded to the team's SIEM as one JSON object per line: to stdout (a log shipper
 * picks it up), or in batches to an HTTP endpoint (Splunk HEC, Elastic, Loki …: anything taking NDJSON).
 * Latchkey calls `receive` off the request's path; a batch that cannot be delivered is logged and dropped (the
 * audit trail in the database stays the record of truth).
 */
@Injectable()
@AuditSinkExtension()
export class SiemAuditSink implements AuditSink, OnApplicationShutdown {
  private readonly logger = new Logger('SiemAuditSink');
  private batch: string[] = [];
  private timer?: NodeJS.Timeout;
  private sending = Promise.resolve();

  constructor(@Inject(SIEM_OPTIONS) private readonly options: SiemOptions) {}

  receive(event: AuditSinkEvent): void {
    const line = JSON.stringify(event);
    if (!this.options.url) {
      (this.options.stream ?? process.stdout).write(`${line}\n`);
      return;
    }
    this.batch.push(line);
    if (this.batch.length >= (this.options.batchSize ?? 100)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs ?? 1000);
  }

  /** Sends what is buffered (one POST), after the POST before it. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.batch;
    this.batch = [];
    if (lines.length === 0 || !this.options.url) return this.sending;
    const url = this.options.url;
    this.sending = this.sending.then(async () => {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-ndjson' },
          body: `${lines.join('\n')}\n`,
          signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) this.logger.warn(`SIEM answered ${res.status}: ${lines.length} event(s) dropped`);
      } catch (err) {
        this.logger.warn(`SIEM unreachable (${(err as Error).message}): ${lines.length} event(s) dropped`);
      }
    });
    return this.sending;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }
}

@Module({})
export class SiemForwardingModule {
  static forRoot(options: SiemOptions = {}): DynamicModule {
    return {
      module: SiemForwardingModule,
      providers: [{ provide: SIEM_OPTIONS, useValue: options }, SiemAuditSink],
      exports: [SiemAuditSink],
    };
  }
}
