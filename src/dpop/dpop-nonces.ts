import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../common/crypto';

/**
 * Server-provided DPoP nonces (RFC 9449 §8), stateless so that every instance accepts every instance's nonce:
 * `<window in base36>.<HMAC(secret, window)>`, the window being `windowSeconds` long. The current and the
 * previous window are accepted, so a nonce lives between one and two windows.
 */
export class DpopNonces {
  constructor(
    private readonly secret: Buffer,
    private readonly windowSeconds: number,
  ) {}

  current(nowMs = Date.now()): string {
    return this.forWindow(Math.floor(nowMs / 1000 / this.windowSeconds));
  }

  isValid(nonce: unknown, nowMs = Date.now()): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false;
    const window = Math.floor(nowMs / 1000 / this.windowSeconds);
    return [window, window - 1].some((w) => constantTimeEqual(nonce, this.forWindow(w)));
  }

  private forWindow(window: number): string {
    const mac = createHmac('sha256', this.secret).update(`latchkey-dpop-nonce:${window}`).digest();
    return `${window.toString(36)}.${mac.subarray(0, 16).toString('base64url')}`;
  }
}
