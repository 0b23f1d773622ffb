import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../common/crypto';

/** The permissions a user can hold (user_permissions.permission). */
export const USER_PERMISSIONS = ['audit:read'];

export const CONSOLE_CLIENT_ID = 'latchkey-audit-console';
export const CONSOLE_SESSION_COOKIE = 'lk_audit';
export const CONSOLE_FLOW_COOKIE = 'lk_audit_flow';
/** A console session lasts as long as the access token it was made from (ACCESS_TOKEN_TTL) at most. */

/**
 * A small signed value for the console's cookies: base64url(JSON) + "." + HMAC-SHA256 under a key derived from
 * SESSION_SECRET. It carries no secret the server keeps (the PKCE verifier of a pending sign-in is the
 * browser's, as in any public client) and expires by its own `exp`.
 */
export class SignedValue {
  private readonly key: Buffer;

  constructor(sessionSecret: Buffer) {
    this.key = createHmac('sha256', sessionSecret).update('latchkey audit console cookie').digest();
  }

  sign(value: Record<string, unknown>, ttlSeconds: number): string {
    const body = Buffer.from(
      JSON.stringify({ ...value, exp: Math.floor(Date.now() / 1000) + ttlSeconds }),
    ).toString('base64url');
    return `${body}.${this.mac(body)}`;
  }

  verify<T extends Record<string, unknown>>(token: string | undefined): T | undefined {
    if (!token || token.length > 4096) return undefined;
    const [body, mac] = token.split('.');
    if (!body || !mac || !constantTimeEqual(mac, this.mac(body))) return undefined;
    try {
      const value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T & { exp?: number };
      return typeof value.exp === 'number' && value.exp > Date.now() / 1000 ? value : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
