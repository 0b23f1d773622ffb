import { isIP } from 'node:net';

/**
 * Defensive clean-up of what modules hand to the audit trail. Modules must never put a code, verifier,
 * token, secret or password in an event (docs/audit.md); this is the second line of defence: such keys are
 * dropped wherever they appear, and every string is made storable (PostgreSQL rejects NUL characters and
 * lone UTF-16 surrogates in jsonb).
 */

/** Keys (compared case-insensitively, `-` read as `_`) that are never stored. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'code',
  'authorization_code',
  'auth_code',
  'code_verifier',
  'verifier',
  'password',
  'passwd',
  'client_secret',
  'secret',
  'refresh_token',
  'access_token',
  'id_token',
  'token',
  'authorization',
  'cookie',
  'set_cookie',
  'assertion',
  'client_assertion',
]);

/** Also dropped: keys ending in one of these (`new_password`, `previous_secret`, `session_token`). */
const SECRET_SUFFIX = /_(password|secret|token|verifier)$/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MAX_DEPTH = 6;
/** The longest string a details value keeps (audit-sql.ts caps what a statement adds the same way). */
export const MAX_STRING = 1024;
const MAX_ARRAY = 100;
const MAX_KEYS = 100;
/** A details object larger than this (as JSON) is replaced by a marker rather than stored. */
export const MAX_DETAILS_JSON = 16 * 1024;

export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase().replace(/-/g, '_');
  return SECRET_KEYS.has(k) || SECRET_SUFFIX.test(k);
}

/** A string PostgreSQL accepts in text and jsonb: no NUL, no lone surrogate, at most `max` characters. */
export function cleanText(value: unknown, max: number): string | null {
  if (value === null || value === undefined) return null;
  let s = typeof value === 'string' ? value : String(value);
  s = s.replaceAll('\u0000', '');
  if (s.length > max) s = s.slice(0, max);
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

/** A valid inet literal or null (junk never reaches the `inet` column). Zone ids (`%eth0`) are dropped. */
export function validInet(ip: unknown): string | null {
  if (typeof ip !== 'string' || ip.length === 0 || ip.length > 64) return null;
  const bare = ip.split('%')[0];
  return isIP(bare) ? bare : null;
}

/** An int4 duration in milliseconds, or null. */
export function validDuration(ms: unknown): number | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return null;
  return Math.min(Math.round(ms), 2_147_483_647);
}

function sanitizeValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return cleanText(value, MAX_STRING);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined; // functions, symbols
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH || seen.has(value as object)) return undefined;
  seen.add(value as object);
  if (Array.isArray(value)) {
    return value
      .slice(0, MAX_ARRAY)
      .map((v) => sanitizeValue(v, depth + 1, seen))
      .filter((v) => v !== undefined);
  }
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (kept >= MAX_KEYS) break;
    if (isSecretKey(key)) continue;
    const clean = sanitizeValue(v, depth + 1, seen);
    if (clean === undefined) continue;
    out[cleanText(key, 64) ?? ''] = clean;
    kept++;
  }
  return out;
}

/**
 * The details object as stored: secret-named keys dropped (recursively), strings cleaned and bounded,
 * `reason` set from the event's reason code (docs/audit.md: a failure's reason lives in details.reason too).
 */
export function sanitizeDetails(details: unknown, reason: string | null): Record<string, unknown> {
  const clean = sanitizeValue(details ?? {}, 0, new WeakSet());
  let out: Record<string, unknown> =
    clean && typeof clean === 'object' && !Array.isArray(clean) ? (clean as Record<string, unknown>) : {};
  if (reason) out.reason = reason;
  if (JSON.stringify(out).length > MAX_DETAILS_JSON) {
    out = { truncated: true, ...(reason ? { reason } : {}) };
  }
  return out;
}
