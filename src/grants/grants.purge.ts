import { Injectable } from '@nestjs/common';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { GrantsRepository } from './grants.repository';

/** Housekeeping's question to the grants module: its revoked access tokens past expiry, then its expired grants. */
@Injectable()
export class GrantsPurge implements ExpiredRowsPurge {
  constructor(private readonly grants: GrantsRepository) {}

  async purgeExpired(): Promise<PurgeCounts> {
    return {
      revoked_access_tokens: await this.grants.purgeRevokedAccessTokens(),
      grants: await this.grants.purgeExpired(),
    };
  }
}
