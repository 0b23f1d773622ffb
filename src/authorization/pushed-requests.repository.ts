import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../database/sql';
import { purgeExpiredRows } from '../database/expired-rows';

/** A pushed request as stored: the authorization request's parameters, and the DPoP key sent at PAR. */
export interface PushedRequestRow {
  params: Record<string, string>;
  dpop_jkt: string | null;
}

/** RFC 9126 pushed authorization requests, keyed by the SHA-256 of their request_uri. */
@Injectable()
export class PushedRequestsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(input: {
    idHash: string;
    clientId: string;
    params: Record<string, string>;
    dpopJkt: string | null;
    ttlSeconds: number;
  }): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO pushed_authorization_requests (id_hash, client_id, params, dpop_jkt, expires_at)
       VALUES ($1, $2, $3::jsonb, $4, now() + make_interval(secs => $5::int))`,
      [input.idHash, input.clientId, JSON.stringify(input.params), input.dpopJkt, input.ttlSeconds],
    );
  }

  /**
   * Single use, bound to its client (RFC 9126 §4): deletes and returns the request only if it is this client's;
   * of concurrent callers exactly one gets it; another client's request_uri stays untouched. Expired → undefined.
   */
  async take(idHash: string, clientId: string): Promise<PushedRequestRow | undefined> {
    const rows = await sql<PushedRequestRow & { live: boolean }>(
      this.dataSource,
      `DELETE FROM pushed_authorization_requests WHERE id_hash = $1 AND client_id = $2
       RETURNING params, dpop_jkt, expires_at > now() AS live`,
      [idHash, clientId],
    );
    const row = rows[0];
    if (!row?.live) return undefined;
    const params = typeof row.params === 'string' ? JSON.parse(row.params) : row.params;
    return { params, dpop_jkt: row.dpop_jkt };
  }

  /** Housekeeping: deletes expired pushed requests. */
  purgeExpired(): Promise<number> {
    return purgeExpiredRows(this.dataSource, 'pushed_authorization_requests', `expires_at < now()`);
  }
}
