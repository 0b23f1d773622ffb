import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { randomToken, sha256Hex } from '../common/crypto';
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
  }): Promise<string> {
    const code = randomToken();
    await this.codes.insert({ ...input, codeHash: sha256Hex(code) });
    return code;
  }

  /**
   * Like `issue`, but only when the user already consented to this client for (a superset of) the scope:
   * one statement for the consent check and the insert. Returns the clear code, or null (consent needed).
   */
  async issueIfConsented(input: {
    clientId: string;
    userId: string;
    redirectUri: string;
    scope: string;
    codeChallenge: string;
    ttlSeconds: number;
  }): Promise<string | null> {
    const code = randomToken();
    return (await this.codes.insertIfConsented({ ...input, codeHash: sha256Hex(code) })) ? code : null;
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
