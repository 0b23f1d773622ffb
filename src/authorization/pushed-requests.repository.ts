import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedSql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';
import {
  eachAloneIfRefused,
  firstUseOfEachKey,
  statementBatchSize,
  statementBatcher,
  valuesParams,
} from '../database/statement-batch';
import { INSERT_PUSHED_SQL, TAKE_PUSHED_SQL } from './pushed-requests.sql';

/** A pushed request as stored: the authorization request's parameters, and the DPoP key sent at PAR. */
export interface PushedRequestRow {
  params: Record<string, string>;
  dpop_jkt: string | null;
}

export interface NewPushedRequest {
  idHash: string;
  clientId: string;
  params: Record<string, string>;
  dpopJkt: string | null;
  ttlSeconds: number;
}

interface Take {
  idHash: string;
  clientId: string;
}

/**
 * RFC 9126 pushed authorization requests, keyed by the SHA-256 of their request_uri. The inserts, and the takes,
 * that reach the repository in the same turn of the event loop share one statement each
 * (database/statement-batch.ts): one round trip and one commit for all of them. If the database refuses a shared
 * statement (a client deleted meanwhile), each call runs alone, so that only that call fails.
 */
@Injectable()
export class PushedRequestsRepository {
  private readonly logger = new Logger(PushedRequestsRepository.name);
  private readonly inserts = statementBatcher<NewPushedRequest, true>((batch) =>
    eachAloneIfRefused(this.logger, 'pushed-request insert', batch, (calls) => this.insertStatement(calls)),
  );
  private readonly takes = statementBatcher<Take, PushedRequestRow | null>((batch) => this.takeBatch(batch));

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(input: NewPushedRequest): Promise<void> {
    await this.inserts.load(input);
  }

  /**
   * Single use, bound to its client (RFC 9126 §4): deletes and returns the request only if it is this client's;
   * of concurrent callers exactly one gets it; another client's request_uri stays untouched. Expired → undefined.
   */
  async take(idHash: string, clientId: string): Promise<PushedRequestRow | undefined> {
    return (await this.takes.load({ idHash, clientId })) ?? undefined;
  }

  /** Housekeeping: deletes expired pushed requests. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'pushed_authorization_requests', `expires_at < now()`);
  }

  /**
   * A request_uri taken twice by its client in one batch (two concurrent uses) goes to the statement once: the first
   * call gets what the statement deleted, the others nothing — single use, as if they had come after it. Another
   * client naming the same request_uri is a call of its own (it gets nothing, and does not hide the request from
   * its owner's call).
   */
  private takeBatch(batch: readonly Take[]): Promise<(PushedRequestRow | null | Error)[]> {
    return firstUseOfEachKey(
      batch,
      (take) => `${take.clientId} ${take.idHash}`,
      (distinct) =>
        eachAloneIfRefused(this.logger, 'pushed-request take', distinct, (calls) =>
          this.takeStatement(calls),
        ),
      null,
    );
  }

  private async insertStatement(calls: readonly NewPushedRequest[]): Promise<true[]> {
    const size = statementBatchSize(calls.length);
    await preparedSql(
      this.dataSource,
      `latchkey_push_request_${size}`,
      INSERT_PUSHED_SQL.get(size)!,
      valuesParams(calls, size, 5, (c) => [
        c.idHash,
        c.clientId,
        JSON.stringify(c.params),
        c.dpopJkt,
        c.ttlSeconds,
      ]),
    );
    return calls.map(() => true);
  }

  private async takeStatement(calls: readonly Take[]): Promise<(PushedRequestRow | null)[]> {
    const size = statementBatchSize(calls.length);
    const rows = await preparedSql<{ i: number; params: unknown; dpop_jkt: string | null; live: boolean }>(
      this.dataSource,
      `latchkey_take_pushed_request_${size}`,
      TAKE_PUSHED_SQL.get(size)!,
      valuesParams(calls, size, 2, (c) => [c.idHash, c.clientId]),
    );
    const taken: (PushedRequestRow | null)[] = calls.map(() => null);
    for (const row of rows) {
      if (!row.live || row.i >= taken.length) continue;
      const params = (typeof row.params === 'string' ? JSON.parse(row.params) : row.params) as Record<
        string,
        string
      >;
      taken[row.i] = { params, dpop_jkt: row.dpop_jkt };
    }
    return taken;
  }
}
