import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedSql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';
import {
  eachAloneIfRefused,
  firstUseOfEachKey,
  STATEMENT_BATCH_SIZES,
  statementBatchSize,
  statementBatcher,
  valuesParams,
  valuesRows,
} from '../database/statement-batch';

/** One accepted proof to record: the SHA-256 of (key thumbprint, jti), kept `ttlSeconds`. */
interface ProofUse {
  proofHash: string;
  ttlSeconds: number;
}

/**
 * Records `size` proofs (padding rows are NULL); returns the hashes it inserted — a hash already there (a replay)
 * is not returned. Every hash of one statement is distinct (DpopProofsRepository answers repeats itself).
 */
export const REMEMBER_PROOFS_SQL = new Map(
  STATEMENT_BATCH_SIZES.map((size) => {
    const text = `INSERT INTO dpop_proofs (proof_hash, expires_at)
       SELECT k.proof_hash, now() + make_interval(secs => k.ttl)
         FROM (VALUES ${valuesRows(size, ['text', 'int'])}) AS k(proof_hash, ttl, i)
        WHERE k.proof_hash IS NOT NULL
       ON CONFLICT (proof_hash) DO NOTHING
       RETURNING proof_hash`;
    return [size, text] as const;
  }),
);

/**
 * Accepted DPoP proofs (RFC 9449 §11.1), shared by every instance: the SHA-256 of (key thumbprint, jti) until
 * the proof would be refused as stale anyway; expired rows are purged by housekeeping. The proofs that reach the
 * repository in the same turn of the event loop are recorded by one statement (database/statement-batch.ts): one
 * round trip and one commit for all of them, each still decided by the database's unique key.
 */
@Injectable()
export class DpopProofsRepository {
  private readonly logger = new Logger(DpopProofsRepository.name);
  private readonly uses = statementBatcher<ProofUse, boolean>((batch) => this.record(batch));

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records a proof; false when it was recorded before (a replay). Concurrent uses of one proof: one wins. */
  remember(proofHash: string, ttlSeconds: number): Promise<boolean> {
    return this.uses.load({ proofHash, ttlSeconds });
  }

  /** Housekeeping: forgets proofs past their replay window. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'dpop_proofs', `expires_at < now()`);
  }

  /**
   * One statement for a batch (each proof alone if the database refuses it). A hash sent twice in one batch (the
   * same proof in two concurrent requests) goes to the statement once: the first call gets the database's answer,
   * the others are replays.
   */
  private record(batch: readonly ProofUse[]): Promise<(boolean | Error)[]> {
    return firstUseOfEachKey(
      batch,
      (use) => use.proofHash,
      (distinct) => eachAloneIfRefused(this.logger, 'DPoP proofs', distinct, (uses) => this.statement(uses)),
      false,
    );
  }

  private async statement(uses: readonly ProofUse[]): Promise<boolean[]> {
    const size = statementBatchSize(uses.length);
    const rows = await preparedSql<{ proof_hash: string }>(
      this.dataSource,
      `latchkey_remember_dpop_proofs_${size}`,
      REMEMBER_PROOFS_SQL.get(size)!,
      valuesParams(uses, size, 2, (use) => [use.proofHash, use.ttlSeconds]),
    );
    const inserted = new Set(rows.map((row) => row.proof_hash.trim()));
    return uses.map((use) => inserted.has(use.proofHash));
  }
}
