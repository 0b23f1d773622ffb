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

interface Row {
  client_id: string;
  redirect_uri: string;
  scope: string;
  state: string | null;
  code_challenge: string;
  nonce: string | null;
  min_auth_time: Date | null;
  force_consent: boolean;
  dpop_jkt: string | null;
}

const COLUMNS =
  'client_id, redirect_uri, scope, state, code_challenge, nonce, min_auth_time, force_consent, dpop_jkt';

const fromRow = (r: Row): PendingAuthorizationRequest => ({
  clientId: r.client_id,
  redirectUri: r.redirect_uri,
  scope: r.scope,
  state: r.state,
  codeChallenge: r.code_challenge,
  nonce: r.nonce,
  minAuthTime: r.min_auth_time === null ? null : new Date(r.min_auth_time),
  forceConsent: r.force_consent === true,
  dpopJkt: r.dpop_jkt ?? null,
});

/** Pending requests, keyed by the SHA-256 of the opaque id that the login and consent pages carry. */
@Injectable()
export class AuthorizationRequestsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(idHash: string, r: NewPendingRequest, ttlSeconds: number): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO authorization_requests (id_hash, client_id, redirect_uri, scope, state, code_challenge, expires_at,
                                           nonce, min_auth_time, force_consent, dpop_jkt)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), $8,
               CASE WHEN $9::float8 IS NULL THEN NULL ELSE now() - make_interval(secs => $9::float8) END, $10, $11)`,
      [
        idHash,
        r.clientId,
        r.redirectUri,
        r.scope,
        r.state,
        r.codeChallenge,
        ttlSeconds,
        r.nonce,
        r.minAuthAgeSeconds,
        r.forceConsent,
        r.dpopJkt ?? null,
      ],
    );
  }

  async find(idHash: string): Promise<PendingAuthorizationRequest | undefined> {
    const rows = await sql<Row>(
      this.dataSource,
      `SELECT ${COLUMNS} FROM authorization_requests WHERE id_hash = $1 AND expires_at > now()`,
      [idHash],
    );
    return rows[0] && fromRow(rows[0]);
  }

  /** Single use: of concurrent callers (a double-submitted form) exactly one gets the request. */
  async take(idHash: string): Promise<PendingAuthorizationRequest | undefined> {
    const rows = await sql<Row & { live: boolean }>(
      this.dataSource,
      `DELETE FROM authorization_requests WHERE id_hash = $1
       RETURNING ${COLUMNS}, expires_at > now() AS live`,
      [idHash],
    );
    return rows[0]?.live ? fromRow(rows[0]) : undefined;
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
