import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';

/** A validated authorization request waiting for the user's login and/or consent. */
export interface PendingAuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** space-separated, already validated */
  scope: string;
  state: string | null;
  codeChallenge: string;
  /** OIDC nonce, exactly as sent (only with the openid scope) */
  nonce: string | null;
  /** prompt=login / max_age: a session that signed in before this must sign in again */
  minAuthTime: Date | null;
  /** prompt=consent: ask even when consent is remembered */
  forceConsent: boolean;
  /** RFC 9449 §10: the DPoP key the code will be bound to (pushed with a proof), or null */
  dpopJkt: string | null;
}

/** A request to remember: `minAuthAgeSeconds` (0 for prompt=login, max_age otherwise) sets `minAuthTime`. */
export type NewPendingRequest = Omit<PendingAuthorizationRequest, 'minAuthTime'> & {
  minAuthAgeSeconds: number | null;
};

/**
 * The `authorization_requests` table holds only the *use* of pending requests (they travel sealed, see
 * PendingRequestsService): the SHA-256 of a used request's random id, until the request would have expired
 * (then housekeeping purges it).
 */
@Injectable()
export class AuthorizationRequestsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Records the use of a request; false if it was used already (of concurrent callers exactly one gets true). */
  async markUsed(idHash: string, expiresAt: Date): Promise<boolean> {
    const rows = await sql(
      this.dataSource,
      `INSERT INTO authorization_requests (id_hash, expires_at) VALUES ($1, $2)
       ON CONFLICT (id_hash) DO NOTHING RETURNING 1`,
      [idHash, expiresAt],
    );
    return rows.length === 1;
  }

  /**
   * Whether a client id names a registered client, and whether it is enabled: read only when
   * ClientsService.findEnabled found nothing, to tell `unknown_client` from `client_disabled` in the audit
   * trail (the clients module exposes enabled clients only).
   */
  async clientEnabled(clientId: string): Promise<boolean | undefined> {
    const rows = await sql<{ enabled: boolean }>(
      this.dataSource,
      `SELECT enabled FROM clients WHERE client_id = $1`,
      [clientId],
    );
    return rows[0]?.enabled;
  }

  /** Housekeeping: deletes expired pending requests. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'authorization_requests', `expires_at < now()`);
  }
}
