/*
 * The liveness rule of an access token, as SQL other modules' statements may compose (the grants module owns it,
 * as users/session-sql.ts owns the session rules): the grant live, its client enabled, its user (if any) enabled
 * and the token (jti) not revoked. Used by GrantsRepository's state check (bearer guard, userinfo) and by
 * introspection's statement, which writes its audit event with the answer (tokens/introspection.repository.ts).
 */

/**
 * The joins that `ACCESS_TOKEN_ACTIVE` reads, for the (grant id, jti) pairs of `k` (columns `grant_id`, `jti`).
 * Every row of `k` is kept: an unknown grant reads as inactive.
 */
export const ACCESS_TOKEN_STATE_JOINS = (k: string) =>
  `LEFT JOIN grants g ON g.id = ${k}.grant_id
         LEFT JOIN clients c ON c.client_id = g.client_id
         LEFT JOIN users u ON u.id = g.user_id`;

/** True for a live access token of `k`'s row (over ACCESS_TOKEN_STATE_JOINS), false otherwise, never NULL. */
export const ACCESS_TOKEN_ACTIVE = (k: string) =>
  `COALESCE(g.id IS NOT NULL AND g.revoked_at IS NULL AND c.enabled AND COALESCE(u.enabled, true)
               AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens r WHERE r.jti = ${k}.jti), false)`;
