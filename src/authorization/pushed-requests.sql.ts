import { STATEMENT_BATCH_SIZES, valuesRows } from '../database/statement-batch';

/** Stores `size` pushed requests (padding rows are NULL and store nothing). */
export const INSERT_PUSHED_SQL = new Map(
  STATEMENT_BATCH_SIZES.map((size) => {
    const text = `INSERT INTO pushed_authorization_requests (id_hash, client_id, params, dpop_jkt, expires_at)
       SELECT k.id_hash, k.client_id, k.params, k.dpop_jkt, now() + make_interval(secs => k.ttl)
         FROM (VALUES ${valuesRows(size, ['char(64)', 'text', 'jsonb', 'text', 'int'])})
              AS k(id_hash, client_id, params, dpop_jkt, ttl, i)
        WHERE k.id_hash IS NOT NULL`;
    return [size, text] as const;
  }),
);

/**
 * Takes `size` pushed requests (row `i` answers call `i`): each is deleted only when it belongs to the client that
 * names it, and returned with whether it was still live. The (id hash, client) pairs of one statement are distinct.
 * The client_id is compared as `text`: it comes from the query string, and a cast to the column's varchar(64) would
 * cut a longer value down to a registered one. (The id hash is always 64 hex digits: char(64), the key's type.)
 */
export const TAKE_PUSHED_SQL = new Map(
  STATEMENT_BATCH_SIZES.map((size) => {
    const text = `DELETE FROM pushed_authorization_requests p
        USING (VALUES ${valuesRows(size, ['char(64)', 'text'])}) AS k(id_hash, client_id, i)
        WHERE p.id_hash = k.id_hash AND p.client_id = k.client_id
       RETURNING k.i, p.params, p.dpop_jkt, p.expires_at > now() AS live`;
    return [size, text] as const;
  }),
);
