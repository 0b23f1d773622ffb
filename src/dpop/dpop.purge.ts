import { Injectable } from '@nestjs/common';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { DpopProofsRepository } from './dpop-proofs.repository';

/** Housekeeping's question to the DPoP module: the proofs past their replay window. */
@Injectable()
export class DpopPurge implements ExpiredRowsPurge {
  constructor(private readonly proofs: DpopProofsRepository) {}

  async purgeExpired(): Promise<PurgeCounts> {
    return {
      dpop_proofs: await this.proofs.purgeExpired(),
    };
  }
}
