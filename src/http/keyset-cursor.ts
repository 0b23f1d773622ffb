/** The admin lists' page sizes (GET /admin/clients, /admin/users and a user's grants). */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/**
 * The admin lists' opaque cursor (clients and users): base64url JSON of the last row's keyset position
 * (created_at with PostgreSQL's microsecond precision, as text — a JS Date would lose the microseconds and
 * repeat or skip rows).
 */
export interface ClientCursor {
  /** created_at as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds) */
  createdAt: string;
  /** the row's id (a client_id, a user id) */
  clientId: string;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;

export function encodeCursor(cursor: ClientCursor): string {
  return Buffer.from(JSON.stringify({ t: cursor.createdAt, i: cursor.clientId })).toString('base64url');
}

/** The cursor, or null when the value is not one this server issued (never throws). */
export function decodeCursor(value: string): ClientCursor | null {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > 512 ||
    !/^[A-Za-z0-9_-]+$/.test(value)
  )
    return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const { t, i } = parsed as Record<string, unknown>;
  if (typeof t !== 'string' || typeof i !== 'string') return null;
  if (!isValidTimestamp(t)) return null;
  if (i.length === 0 || i.length > 64 || !/^[\x21-\x7e]+$/.test(i)) return null;
  return { createdAt: t, clientId: i };
}

/** A real calendar instant in the cursor format (so that PostgreSQL never sees an invalid timestamp). */
function isValidTimestamp(value: string): boolean {
  const m = TIMESTAMP.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return (
    year >= 1970 &&
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  );
}
