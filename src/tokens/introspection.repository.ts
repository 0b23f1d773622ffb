import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { insertStagedAudit } from '../audit/audit-sql';
import { isUuid } from '../common/uuid';
import { preparedSql } from '../database/sql';
import {
  eachAloneIfRefused,
  STATEMENT_BATCH_SIZES,
  statementBatchSize,
  statementBatcher,
  valuesParams,
  valuesRows,
} from '../database/statement-batch';
import { ACCESS_TOKEN_ACTIVE, ACCESS_TOKEN_STATE_JOINS } from '../grants/access-token-state.sql';

/** One introspection of an access token whose signature and claims held: its state is read, its event written. */
interface Introspection {
  grantId: string;
  jti: string;
  /** the request's staged `token.introspected` row (audit/audit-sql.ts), or null */
  event: string | null;
}

/**
 * The state of `size` access tokens (row `i` answers token `i`), each one's staged `token.introspected` row written
 * with the answer in its details: `active`, and `token_type` when it is active — what IntrospectionService records.
 */
export const INTROSPECTION_SQL = new Map(
  STATEMENT_BATCH_SIZES.map((size) => {
    const text = `WITH k(grant_id, jti, event, i) AS (
         VALUES ${valuesRows(size, ['uuid', 'uuid', 'jsonb'])}
       ), s AS (
         SELECT k.i, k.event, ${ACCESS_TOKEN_ACTIVE('k')} AS active
           FROM k ${ACCESS_TOKEN_STATE_JOINS('k')}
          WHERE k.grant_id IS NOT NULL
       ), introspected_event AS (
         ${insertStagedAudit({
           row: 's.event',
           from: 's',
           details: `a.details || CASE WHEN s.active
                                       THEN '{"active": true, "token_type": "access_token"}'::jsonb
                                       ELSE '{"active": false}'::jsonb END`,
         })}
       )
       SELECT i, active FROM s`;
    return [size, text] as const;
  }),
);

/**
 * Introspection of access tokens (RFC 7662): the revocation state — the grants module's rule
 * (grants/access-token-state.sql.ts) — and the request's audit event in one statement, so that an introspection
 * costs one round trip and one commit. Introspections that reach the repository in the same turn of the event loop
 * share the statement (database/statement-batch.ts); the state is read after each call arrived, nothing cached.
 */
@Injectable()
export class IntrospectionRepository {
  private readonly logger = new Logger(IntrospectionRepository.name);
  private readonly introspections = statementBatcher<Introspection, boolean>((batch) =>
    this.introspect(batch),
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * True when the token is live (GrantsService.accessTokenActive's rule). `written`: the statement wrote `event`
   * (false only for ids that are not UUIDs, answered inactive without a statement).
   */
  async accessTokenActive(
    grantId: string,
    jti: string,
    event: string | null,
  ): Promise<{ active: boolean; written: boolean }> {
    if (!isUuid(grantId) || !isUuid(jti)) return { active: false, written: false };
    return { active: await this.introspections.load({ grantId, jti, event }), written: true };
  }

  /** One statement for a batch; each call alone if the database refuses it (database/statement-batch.ts). */
  private introspect(batch: readonly Introspection[]): Promise<(boolean | Error)[]> {
    return eachAloneIfRefused(this.logger, 'introspection', batch, (calls) => this.statement(calls));
  }

  private async statement(batch: readonly Introspection[]): Promise<boolean[]> {
    const size = statementBatchSize(batch.length);
    const rows = await preparedSql<{ i: number; active: boolean }>(
      this.dataSource,
      `latchkey_introspect_access_${size}`,
      INTROSPECTION_SQL.get(size)!,
      valuesParams(batch, size, 3, (c) => [c.grantId, c.jti, c.event]),
    );
    const active = batch.map(() => false);
    for (const row of rows) if (row.active === true && row.i < active.length) active[row.i] = true;
    return active;
  }
}
