import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { preparedSql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';

/**
 * Accepted DPoP proofs (RFC 9449 §11.1), shared by every instance: the SHA-256 of (key thumbprint, jti) until
 * the proof would be refused as stale anyway; expired rows are purged by housekeeping.
 */
@Injectable()
export class DpopProofsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records a proof; false when it was recorded before (a replay). One statement, so concurrent uses race safely. */
  async remember(proofHash: string, ttlSeconds: number): Promise<boolean> {
    const rows = await preparedSql(
      this.dataSource,
      'latchkey_remember_dpop_proof',
      `INSERT INTO dpop_proofs (proof_hash, expires_at) VALUES ($1, now() + make_interval(secs => $2::int))
       ON CONFLICT (proof_hash) DO NOTHING RETURNING 1 AS x`,
      [proofHash, ttlSeconds],
    );
    return rows.length === 1;
  }

  /** Housekeeping: forgets proofs past their replay window. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'dpop_proofs', `expires_at < now()`);
  }
}
