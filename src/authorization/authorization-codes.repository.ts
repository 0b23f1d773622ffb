import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { preparedSql, sql } from '../database/sql';

export interface AuthorizationCodeRow {
  code_hash: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  scope: string;
  code_challenge: string;
  created_at: Date;
  expires_at: Date;
  consumed_at: Date | null;
  grant_id: string | null;
}

export interface NewAuthorizationCode {
  codeHash: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scope: string;
  codeChallenge: string;
  ttlSeconds: number;
}

/** Authorization codes, stored only as SHA-256 hashes (the clear code exists only in the redirect). */
@Injectable()
export class AuthorizationCodesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(code: NewAuthorizationCode): Promise<void> {
    await sql(
      this.dataSource,
      `INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
      [
        code.codeHash,
        code.clientId,
        code.userId,
        code.redirectUri,
        code.scope,
        code.codeChallenge,
        code.ttlSeconds,
      ],
    );
  }

  /**
   * The authorize hot path in one statement: inserts the code only if the user's remembered consent for
   * the client covers every scope (array containment: a superset). Returns false when it does not.
   */
  async insertIfConsented(code: NewAuthorizationCode): Promise<boolean> {
    const rows = await preparedSql(
      this.dataSource,
      'latchkey_insert_code_if_consented',
      `INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, expires_at)
       SELECT $1::text, $2::text, $3::uuid, $4::text, $5::text, $6::text, now() + make_interval(secs => $7::float8)
        WHERE EXISTS (SELECT 1 FROM consents c WHERE c.user_id = $3::uuid AND c.client_id = $2::text
                        AND string_to_array(c.scope, ' ') @> string_to_array($5::text, ' '))
       RETURNING 1 AS inserted`,
      [
        code.codeHash,
        code.clientId,
        code.userId,
        code.redirectUri,
        code.scope,
        code.codeChallenge,
        code.ttlSeconds,
      ],
    );
    return rows.length === 1;
  }

  async findByHash(codeHash: string, manager?: EntityManager): Promise<AuthorizationCodeRow | undefined> {
    const rows = await sql<AuthorizationCodeRow>(
      manager ?? this.dataSource,
      `SELECT * FROM authorization_codes WHERE code_hash = $1`,
      [codeHash],
    );
    return rows[0];
  }

  /**
   * Marks the code used, atomically: of concurrent callers exactly one gets the row back
   * (PostgreSQL re-checks `consumed_at IS NULL` after the competing transaction commits).
   */
  async consumeByHash(codeHash: string, manager: EntityManager): Promise<AuthorizationCodeRow | undefined> {
    const rows = await sql<AuthorizationCodeRow>(
      manager,
      `UPDATE authorization_codes SET consumed_at = now()
        WHERE code_hash = $1 AND consumed_at IS NULL RETURNING *`,
      [codeHash],
    );
    return rows[0];
  }

  /** Records which grant the code produced (so that a replay can revoke it: RFC 6749 §4.1.2). */
  async linkGrant(codeHash: string, grantId: string, manager: EntityManager): Promise<void> {
    await sql(manager, `UPDATE authorization_codes SET grant_id = $2 WHERE code_hash = $1`, [
      codeHash,
      grantId,
    ]);
  }
}
