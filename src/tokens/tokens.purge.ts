import { Injectable } from '@nestjs/common';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { TokensRepository } from './tokens.repository';

/** Housekeeping's question to the tokens module: its expired refresh tokens. */
@Injectable()
export class TokensPurge implements ExpiredRowsPurge {
  constructor(private readonly tokens: TokensRepository) {}

  async purgeExpired(): Promise<PurgeCounts> {
    return {
      refresh_tokens: await this.tokens.purgeExpired(),
    };
  }
}
