import { isIP } from 'node:net';
import type { AuditCursorPosition } from './audit-events.repository';

/** RFC 3339 date-time (§5.6): full date, `T` (or space / t), time with optional fraction, Z or offset. */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp; undefined when malformed or not a real date (2025-02-30, 25:00). */
export function parseRfc3339(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  if (m[9] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined;
  // A leap second (:60) is read as the following second, as most systems do.
  const date = new Date(
    value
      .replace(/[t ]/, 'T')
      .replace(/z$/, 'Z')
      .replace(/:60(?=[.Zz+-])/, ':59'),
  );
  if (Number.isNaN(date.getTime())) return undefined;
  const instant = second === 60 ? new Date(date.getTime() + 1000) : date;
  // 1970–9999 (UTC) only: the databases refuse year 0 and years past 9999 as JavaScript writes them (a 500
  // before this check); nothing Latchkey stores is older than 1970
  const utcYear = instant.getUTCFullYear();
  return utcYear >= MIN_YEAR && utcYear <= MAX_YEAR ? instant : undefined;
}

export const MIN_YEAR = 1970;
export const MAX_YEAR = 9999;

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The opaque cursor: base64url of JSON {t: occurred_at to the microsecond, i: id}. */
export function encodeCursor(position: AuditCursorPosition): string {
  return Buffer.from(JSON.stringify({ t: position.occurredAt, i: position.id })).toString('base64url');
}

export function decodeCursor(value: unknown): AuditCursorPosition | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as {
      t?: unknown;
      i?: unknown;
    };
    if (typeof parsed?.t !== 'string' || !CURSOR_TS.test(parsed.t)) return undefined;
    if (!parseRfc3339(parsed.t)) return undefined;
    if (typeof parsed.i !== 'string' || !/^\d{1,18}$/.test(parsed.i)) return undefined;
    return { occurredAt: parsed.t, id: parsed.i };
  } catch {
    return undefined;
  }
}

/** An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) for the `ip` filter. */
export function isIpOrCidr(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 50) return false;
  const [address, prefix, extra] = value.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}
