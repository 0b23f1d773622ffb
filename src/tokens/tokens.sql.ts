import { insertStagedAudit, stagedDetailsWith } from '../audit/audit-sql';
import { SHARED_STATEMENT_SIZES, valuesRows, type SharedWrite } from '../database/statement-batch';

/*
 * The row shapes, SQL texts and shared-statement definitions of TokensRepository's hot statements (the code
 * exchange and the refresh rotation), kept apart from the repository's methods. Only the repository runs them.
 */

/** What a successful code exchange or refresh produced. */
export interface GrantTokensRow {
  grant_id: string;
  user_id: string | null;
  /** the grant's (refresh token's) scope */
  scope: string;
  /** OIDC: the authorization request's nonce, the login time and the session id (user grants) */
  nonce: string | null;
  auth_time: Date | null;
  sid: string | null;
  /**
   * The user's profile (what the id_token's claims are made of), read by the same statement when the grant's scope
   * has `openid`: null columns otherwise (and for a user deleted meanwhile).
   */
  username: string | null;
  name: string | null;
  email: string | null;
  email_verified: boolean | null;
  updated_at: Date | null;
}

/**
 * The closing SELECT of the exchange and rotation statements: the grant row `src` and, for an `openid` grant, the
 * user's profile — so that an id_token costs no statement of its own (the read-only join is the one place the
 * tokens module reads `users`; the users module owns the table and its writes).
 */
export const GRANT_WITH_PROFILE = (src: string, grantId: string) =>
  `SELECT ${grantId} AS grant_id, ${src}.user_id, ${src}.scope, ${src}.nonce, ${src}.auth_time, ${src}.sid,
          u.username, u.name, u.email, u.email_verified, u.updated_at
     FROM ${src} LEFT JOIN users u
       ON u.id = ${src}.user_id AND 'openid' = ANY (string_to_array(${src}.scope, ' '))`;

/** What a code exchange is asked to do (TokensRepository.exchangeCode). */
export interface CodeExchange {
  codeHash: string;
  grantId: string;
  clientId: string;
  redirectUri: string;
  /** S256 of the code_verifier sent */
  codeChallenge: string;
  grantTtlSeconds: number;
  refreshHash: string | null;
  /** the thumbprint of the request's DPoP proof: a code bound at PAR is consumed only with that key */
  proofJkt?: string | null;
  /** the key the refresh token is bound to (public clients presenting a proof), or null */
  refreshJkt?: string | null;
  /** the request's staged `token.issued` row (audit/audit-sql.ts), written with the grant: ISSUED_EVENT */
  issuedEvent?: string | null;
}

/**
 * The `token.issued` row of an exchange or rotation (`row`: a jsonb expression, the staged row or NULL for none),
 * written in its statement for each row of `from`: subject, scope and grant id are the statement's (`of` names
 * them; by default the columns `user_id`, `scope` and `id` of the grant `g`).
 */
export const ISSUED_EVENT = (
  row: string,
  from: string,
  of: { subject: string; scope: string; grantId: string } = {
    subject: 'g.user_id',
    scope: 'g.scope',
    grantId: 'g.id',
  },
) =>
  insertStagedAudit({
    row,
    from,
    subject: of.subject,
    details: stagedDetailsWith({ scope: of.scope, grant_id: of.grantId }),
  });

/**
 * The conditions under which code `ac` may be exchanged by its client `cl` for exchange `k`, and the grant's
 * scope: the code's scope intersected with the client's current registration, in the code's order.
 */
export const EXCHANGEABLE = (k: {
  codeHash: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  jkt: string;
}) =>
  `ac.code_hash = ${k.codeHash} AND ac.client_id = ${k.clientId} AND ac.redirect_uri = ${k.redirectUri}
            AND ac.code_challenge = ${k.challenge}
            AND ac.consumed_at IS NULL AND ac.expires_at > now()
            AND (ac.dpop_jkt IS NULL OR ac.dpop_jkt = ${k.jkt})
            AND cl.client_id = ac.client_id AND cl.enabled
            AND (ac.scope = '' OR string_to_array(ac.scope, ' ') && string_to_array(cl.scope, ' '))`;
export const KEPT_SCOPE = `coalesce((SELECT string_agg(s, ' ' ORDER BY n)
                        FROM unnest(string_to_array(ac.scope, ' ')) WITH ORDINALITY AS t(s, n)
                       WHERE s = ANY (string_to_array(cl.scope, ' '))), '')`;

/**
 * Concurrent code exchanges in one statement, by size (database/statement-batch.ts); result row `i` answers
 * exchange `i`. As for rotations (ROTATION_BATCH_SQL): each code found by its primary key in a LATERAL subquery
 * and locked SKIP LOCKED; an exchange this statement did not make runs its own, waiting statement, which decides.
 * Two exchanges of one code in one statement consume it once: one gets the grant.
 */
export const EXCHANGE_BATCH_SQL = new Map(
  SHARED_STATEMENT_SIZES.map((size) => {
    const casts = [
      'bpchar',
      'uuid',
      'varchar',
      'int',
      'bpchar',
      'text',
      'varchar',
      'varchar',
      'varchar',
      'jsonb',
    ];
    const text = `WITH k(code_hash, grant_id, client_id, grant_ttl, refresh_hash, redirect_uri, code_challenge,
                   refresh_jkt, proof_jkt, issued_event, i) AS (
         VALUES ${valuesRows(size, casts)}
       ), locked AS (
         SELECT k.i, k.grant_id, k.client_id, k.grant_ttl, k.refresh_hash, k.refresh_jkt, x.*
           FROM k CROSS JOIN LATERAL (
             SELECT ac.code_hash, ac.user_id, ac.nonce, ac.auth_time, ac.sid, ${KEPT_SCOPE} AS scope
               FROM authorization_codes ac, clients cl
              WHERE ${EXCHANGEABLE({ codeHash: 'k.code_hash', clientId: 'k.client_id', redirectUri: 'k.redirect_uri', challenge: 'k.code_challenge', jkt: 'k.proof_jkt' })}
                FOR UPDATE OF ac SKIP LOCKED
           ) x
       ), c AS (
         UPDATE authorization_codes ac SET consumed_at = now(), grant_id = l.grant_id
           FROM locked l
          WHERE ac.code_hash = l.code_hash
          RETURNING l.*
       ), g AS (
         INSERT INTO grants (id, client_id, user_id, grant_type, scope, expires_at, nonce, auth_time, sid)
         SELECT grant_id, client_id, user_id, 'authorization_code', scope,
                now() + make_interval(secs => grant_ttl), nonce, auth_time, sid FROM c
         RETURNING id, user_id, scope, expires_at, nonce, auth_time, sid
       ), r AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT c.refresh_hash, g.id, c.client_id, g.scope, g.expires_at, c.refresh_jkt
           FROM c JOIN g ON g.id = c.grant_id WHERE c.refresh_hash IS NOT NULL
         RETURNING 1
       ), created AS (
         SELECT c.i, g.* FROM g JOIN c ON c.grant_id = g.id
       ), issued_event AS (
         ${ISSUED_EVENT('k.issued_event', 'created JOIN k ON k.i = created.i', { subject: 'created.user_id', scope: 'created.scope', grantId: 'created.id' })}
       )
       ${GRANT_WITH_PROFILE('created', 'created.id').replace('SELECT ', 'SELECT created.i, ')}`;
    return [size, text] as const;
  }),
);

/** What a refresh rotation is asked to do (TokensRepository.rotateRefresh). */
export interface RefreshRotation {
  tokenHash: string;
  clientId: string;
  successorHash: string;
  /** requested scopes, space-separated, or null to keep the token's */
  requestedScope: string | null;
  /** the thumbprint of the request's DPoP proof; a bound refresh token rotates only with that key */
  proofJkt?: string | null;
  /** the request's staged `token.issued` row (audit/audit-sql.ts), written with the rotation: ROTATED_EVENT */
  issuedEvent?: string | null;
}

/**
 * The `token.issued` row of a rotation (`row`: the staged row or NULL) for each rotated token of `from` (columns of
 * `old`: `user_id`, `grant_id`, `scope`); the scope recorded is the new access token's, `requested` or the token's.
 */
export const ROTATED_EVENT = (row: string, from: string, requested: string) =>
  ISSUED_EVENT(row, from, {
    subject: 'old.user_id',
    scope: `coalesce(${requested}, old.scope)`,
    grantId: 'old.grant_id',
  });

/** The conditions under which a refresh token `r` (of grant `g`) may be rotated, for the rotation `k`. */
export const ROTATABLE = (k: { tokenHash: string; clientId: string; scope: string; jkt: string }) =>
  `r.token_hash = ${k.tokenHash} AND r.client_id = ${k.clientId}
            AND r.rotated_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now()
            AND g.id = r.grant_id AND g.revoked_at IS NULL AND g.expires_at > now()
            AND (${k.scope} IS NULL OR string_to_array(r.scope, ' ') @> string_to_array(${k.scope}, ' '))
            AND (r.dpop_jkt IS NULL OR r.dpop_jkt = ${k.jkt})`;

/**
 * Concurrent rotations in one statement, by size (database/statement-batch.ts); result row `i` answers rotation
 * `i`. Each token is found by its primary key (the LATERAL subquery: the same lookup as a rotation of its own)
 * and locked `SKIP LOCKED`: the statement never waits for a lock while it holds others (so it cannot deadlock
 * with a revocation or another instance's statement), and a token another transaction holds is not rotated here
 * — it is then rotated by its own, waiting statement, which decides as before. Two rotations of the same token
 * in one statement update it once (PostgreSQL updates a row once per statement): one gets the successor.
 */
export const ROTATION_BATCH_SQL = new Map(
  SHARED_STATEMENT_SIZES.map((size) => {
    const text = `WITH k(token_hash, client_id, successor_hash, requested_scope, proof_jkt, issued_event, i) AS (
         VALUES ${valuesRows(size, ['bpchar', 'varchar', 'bpchar', 'text', 'varchar', 'jsonb'])}
       ), locked AS (
         SELECT k.i, k.successor_hash, t.*
           FROM k CROSS JOIN LATERAL (
             SELECT r.token_hash, r.grant_id, r.client_id, r.scope, r.expires_at, r.dpop_jkt,
                    g.user_id, g.nonce, g.auth_time, g.sid
               FROM refresh_tokens r, grants g
              WHERE ${ROTATABLE({ tokenHash: 'k.token_hash', clientId: 'k.client_id', scope: 'k.requested_scope', jkt: 'k.proof_jkt' })}
                FOR UPDATE OF r SKIP LOCKED
           ) t
       ), old AS (
         UPDATE refresh_tokens r SET rotated_at = now()
           FROM locked l
          WHERE r.token_hash = l.token_hash
          RETURNING l.*
       ), n AS (
         INSERT INTO refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, dpop_jkt)
         SELECT successor_hash, grant_id, client_id, scope, expires_at, dpop_jkt FROM old
         RETURNING 1
       ), issued_event AS (
         ${ROTATED_EVENT('k.issued_event', 'old JOIN k ON k.i = old.i', 'k.requested_scope')}
       )
       ${GRANT_WITH_PROFILE('old', 'old.grant_id').replace('SELECT ', 'SELECT old.i, ')}`;
    return [size, text] as const;
  }),
);

/** A refresh token as the failure diagnosis sees it. */
export interface RefreshTokenState {
  client_id: string;
  grant_id: string;
  user_id: string | null;
  scope: string;
  rotated_at: Date | null;
  revoked_at: Date | null;
  expired: boolean;
  grant_revoked: boolean;
  in_grace: boolean;
  /** the DPoP key a public client's refresh token is bound to (RFC 9449 §5) */
  dpop_jkt: string | null;
}

/** An active refresh token as introspection reports it. */
export interface ActiveRefreshTokenRow {
  client_id: string;
  user_id: string | null;
  scope: string;
  iat: number;
  exp: number;
}

/** Concurrent code exchanges in one statement (exchangeCode). */
export const SHARED_EXCHANGE: SharedWrite<CodeExchange> = {
  name: 'latchkey_exchange_code_batch',
  sqlBySize: EXCHANGE_BATCH_SQL,
  width: 10,
  paramsOf: (e) => [
    e.codeHash,
    e.grantId,
    e.clientId,
    e.grantTtlSeconds,
    e.refreshHash,
    e.redirectUri,
    e.codeChallenge,
    e.refreshJkt ?? null,
    e.proofJkt ?? null,
    e.issuedEvent ?? null,
  ],
};

/** Concurrent refresh rotations in one statement (rotateRefresh). */
export const SHARED_ROTATION: SharedWrite<RefreshRotation> = {
  name: 'latchkey_rotate_refresh_batch',
  sqlBySize: ROTATION_BATCH_SQL,
  width: 6,
  paramsOf: (r) => [
    r.tokenHash,
    r.clientId,
    r.successorHash,
    r.requestedScope,
    r.proofJkt ?? null,
    r.issuedEvent ?? null,
  ],
};
