import { Injectable } from '@nestjs/common';
import type { ExpiredRowsPurge, PurgeCounts } from '../database/expired-rows';
import { AuthorizationCodesRepository } from './authorization-codes.repository';
import { AuthorizationRequestsRepository } from './authorization-requests.repository';
import { PushedRequestsRepository } from './pushed-requests.repository';

/** Housekeeping's question to the authorization module: its expired codes, pending and pushed requests. */
@Injectable()
export class AuthorizationPurge implements ExpiredRowsPurge {
  constructor(
    private readonly codes: AuthorizationCodesRepository,
    private readonly requests: AuthorizationRequestsRepository,
    private readonly pushed: PushedRequestsRepository,
  ) {}

  async purgeExpired(): Promise<PurgeCounts> {
    return {
      authorization_codes: await this.codes.purgeExpired(),
      authorization_requests: await this.requests.purgeExpired(),
      pushed_authorization_requests: await this.pushed.purgeExpired(),
    };
  }
}
