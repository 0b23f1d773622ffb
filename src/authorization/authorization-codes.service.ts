import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ClientChangeHooks, type PendingAuthorizationsVoider } from '../clients/client-change-hooks';
import { randomToken, sha256Hex } from '../common/crypto';
import type { PresentedSession } from '../users/session-sql';
import {
  AuthorizationCodesRepository,
  type CodeForSessionEvents,
  type NewAuthorizationCode,
  type NewCodeForSession,
} from './authorization-codes.repository';

/** An issued code as the token endpoint sees it (the exchange itself is tokens.repository.ts's statement). */
export interface IssuedCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string;
  /** the DPoP key the code is bound to at PAR (RFC 9449 §10), or null */
  dpopJkt: string | null;
  consumed: boolean;
  expiresAt: Date;
}

/** Issues authorization codes (authorize endpoint) and lets the token endpoint find and consume them. */
@Injectable()
export class AuthorizationCodesService implements PendingAuthorizationsVoider, OnModuleInit {
  constructor(
    private readonly codes: AuthorizationCodesRepository,
    private readonly clientChanges: ClientChangeHooks,
  ) {}

  /** A narrowed or disabled client voids its unconsumed codes (ClientsAdminService, in its transaction). */
  onModuleInit(): void {
    this.clientChanges.registerVoider(this);
  }

  voidPendingAuthorizations(clientId: string, manager: EntityManager): Promise<{ codes: number }> {
    return this.codes.voidPendingAuthorizations(clientId, manager);
  }

  /** A new 256-bit code; only its SHA-256 is stored. Returns the clear code for the redirect. */
  async issue(input: Omit<NewAuthorizationCode, 'codeHash'>): Promise<string> {
    const code = randomToken();
    await this.codes.insert({ ...input, codeHash: sha256Hex(code) });
    return code;
  }

  /**
   * Like `issue`, for the user of a presented session and only when that user already consented to this
   * client for (a superset of) the scope — session lookup, consent check and insert in one statement.
   * `issue: false` only looks the session up. Undefined when the session is not live; otherwise its user
   * and the clear code, or null when no code was issued (consent needed). `events`: the request's staged audit
   * rows the statement writes (CodeForSessionEvents).
   */
  async issueForSession(
    session: PresentedSession,
    input: Omit<NewCodeForSession, 'codeHash'>,
    issue: boolean,
    events?: CodeForSessionEvents,
  ): Promise<{ userId: string; code: string | null; fresh: boolean } | undefined> {
    const code = randomToken();
    const result = await this.codes.insertForSession(
      session,
      { ...input, codeHash: sha256Hex(code) },
      issue,
      events,
    );
    return result && { userId: result.userId, code: result.inserted ? code : null, fresh: result.fresh };
  }

  /** The code as the token endpoint's failure diagnosis reads it (after the exchange statement refused it). */
  async findByCode(code: string): Promise<IssuedCode | undefined> {
    const row = await this.codes.findByHash(sha256Hex(code));
    return (
      row && {
        clientId: row.client_id,
        redirectUri: row.redirect_uri,
        scope: row.scope,
        codeChallenge: row.code_challenge,
        dpopJkt: row.dpop_jkt,
        consumed: row.consumed_at !== null,
        expiresAt: new Date(row.expires_at),
      }
    );
  }

  /** Atomic single use: burns the code; true only for the one caller that consumed it. */
  async consume(codeHash: string): Promise<boolean> {
    return (await this.codes.consumeByHash(codeHash)) !== undefined;
  }
}
