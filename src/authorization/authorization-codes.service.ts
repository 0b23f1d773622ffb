import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { randomToken, sha256Hex } from '../common/crypto';
import type { PresentedSession } from '../users/session-sql';
import { AuthorizationCodeRow, AuthorizationCodesRepository } from './authorization-codes.repository';

export type { AuthorizationCodeRow } from './authorization-codes.repository';

/** Issues authorization codes (authorize endpoint) and lets the token endpoint find and consume them. */
@Injectable()
export class AuthorizationCodesService {
  constructor(private readonly codes: AuthorizationCodesRepository) {}

  /** A new 256-bit code; only its SHA-256 is stored. Returns the clear code for the redirect. */
  async issue(input: {
    clientId: string;
    userId: string;
    redirectUri: string;
    scope: string;
    codeChallenge: string;
    ttlSeconds: number;
    dpopJkt?: string | null;
  }): Promise<string> {
    const code = randomToken();
    await this.codes.insert({ ...input, codeHash: sha256Hex(code) });
    return code;
  }

  /**
   * Like `issue`, for the user of a presented session and only when that user already consented to this
   * client for (a superset of) the scope — session lookup, consent check and insert in one statement.
   * `issue: false` only looks the session up. Undefined when the session is not live; otherwise its user
   * and the clear code, or null when no code was issued (consent needed).
   */
  async issueForSession(
    session: PresentedSession,
    input: {
      clientId: string;
      redirectUri: string;
      scope: string;
      codeChallenge: string;
      ttlSeconds: number;
      dpopJkt?: string | null;
    },
    issue: boolean,
  ): Promise<{ userId: string; code: string | null } | undefined> {
    const code = randomToken();
    const result = await this.codes.insertForSession(session, { ...input, codeHash: sha256Hex(code) }, issue);
    return result && { userId: result.userId, code: result.inserted ? code : null };
  }

  findByCode(code: string, manager?: EntityManager): Promise<AuthorizationCodeRow | undefined> {
    return this.codes.findByHash(sha256Hex(code), manager);
  }

  /** Atomic single use: only one caller ever gets the row. */
  consume(codeHash: string, manager: EntityManager): Promise<AuthorizationCodeRow | undefined> {
    return this.codes.consumeByHash(codeHash, manager);
  }

  linkGrant(codeHash: string, grantId: string, manager: EntityManager): Promise<void> {
    return this.codes.linkGrant(codeHash, grantId, manager);
  }
}
