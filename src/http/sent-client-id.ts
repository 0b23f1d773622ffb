import { bodyOf, type HttpRequest } from './http';

/** The client_id a request names (Basic user or body), as sent — for the audit trail only, never trusted. */
export function sentClientId(req: HttpRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^basic /i.test(header)) {
    try {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const raw = colon >= 0 ? decoded.slice(0, colon) : decoded;
      try {
        return decodeURIComponent(raw.replace(/\+/g, ' ')).slice(0, 128) || null;
      } catch {
        return raw.slice(0, 128) || null;
      }
    } catch {
      return null;
    }
  }
  const id = bodyOf(req)?.client_id;
  if (typeof id === 'string' && id) return id.slice(0, 128);
  return null;
}
