import { Injectable } from '@nestjs/common';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { SessionsRepository } from './sessions.repository';

/** Housekeeping's question to the users module: its expired sessions. */
@Injectable()
export class UsersPurge implements ExpiredRowsPurge {
  constructor(private readonly sessions: SessionsRepository) {}

  async purgeExpired(): Promise<PurgeCounts> {
    return {
      sessions: await this.sessions.purgeExpired(),
    };
  }
}
