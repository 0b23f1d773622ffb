import { Inject, Injectable } from '@nestjs/common';
import { verify } from 'node:crypto';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { KeyStore } from '../keys/key-store.service';

/** What a valid id_token_hint tells the logout endpoint. */
export interface IdTokenHint {
  sub: string;
  clientId: string;
  sid: string | null;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * RP-Initiated Logout 1.0 §2: an `id_token_hint` is valid when it is an id_token this server signed (ES256,
 * a kid of the JWKS, `typ` JWT) for this issuer, with a single audience. Expiry does not matter (§4: the OP
 * should accept expired id_tokens); a foreign or altered signature does.
 */
@Injectable()
export class IdTokenHintVerifier {
  constructor(
    private readonly keys: KeyStore,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  async verify(token: string): Promise<IdTokenHint | null> {
    if (token.length > 8192) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return null;
    let header: { alg?: unknown; kid?: unknown; typ?: unknown };
    let claims: { iss?: unknown; sub?: unknown; aud?: unknown; sid?: unknown };
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (!header || !claims || typeof header !== 'object' || typeof claims !== 'object') return null;
    if (header.alg !== 'ES256' || typeof header.kid !== 'string' || header.typ !== 'JWT') return null;
    const key = await this.keys.publicKey(header.kid);
    const signature = Buffer.from(parts[2], 'base64url');
    if (!key || signature.length !== 64) return null;
    const valid = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    );
    if (!valid) return null;
    const aud = Array.isArray(claims.aud) && claims.aud.length === 1 ? claims.aud[0] : claims.aud;
    if (claims.iss !== this.oauth.issuer || typeof claims.sub !== 'string' || typeof aud !== 'string')
      return null;
    return { sub: claims.sub, clientId: aud, sid: typeof claims.sid === 'string' ? claims.sid : null };
  }
}
