import { Inject, Injectable } from '@nestjs/common';
import { verify } from 'node:crypto';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { GrantsService } from '../grants/grants.service';
import { KeyStore } from './key-store.service';
import { VerifiedTokenCache } from './verified-token-cache';

/** How many verified access tokens an instance remembers (see VerifiedTokenCache); ~0.5 KB each. */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/** RFC 9068 claims of a Latchkey access token; `gid` names the grant the token belongs to. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  gid: string;
  /** RFC 9449 §6.1: the DPoP key the token is bound to (RFC 7638 thumbprint) */
  cnf?: { jkt: string };
}

export type VerifyFailure = 'malformed' | 'bad_signature' | 'wrong_type' | 'wrong_issuer' | 'expired';

/**
 * Verifies this server's access tokens: compact JWS, ES256, `typ: at+jwt`, a kid from the key store,
 * `iss`, `exp`, then the revocation state (grant revoked, client disabled or deleted, jti revoked).
 * The state is one indexed query on every call, so a revocation is seen at once by every instance.
 * A signature already verified is remembered (VerifiedTokenCache); the claims and the state never are.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly verified = new VerifiedTokenCache<AccessTokenClaims>(VERIFIED_TOKEN_CACHE_SIZE);

  constructor(
    private readonly keys: KeyStore,
    private readonly grants: GrantsService,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  /** Signature and claims only (no database). */
  async verifySignature(
    token: string,
  ): Promise<{ ok: true; claims: AccessTokenClaims } | { ok: false; reason: VerifyFailure }> {
    if (typeof token !== 'string' || token.length > 4096) return { ok: false, reason: 'malformed' };
    const now = Math.floor(Date.now() / 1000);
    const seen = this.verified.get(token, now);
    if (seen) {
      // same bytes, same verdict, as long as the key that signed them is still published
      if (!(await this.keys.publicKey(seen.kid))) {
        this.verified.forget(token);
        return { ok: false, reason: 'bad_signature' };
      }
      return this.checkClaims(seen.claims, now);
    }
    const parts = token.split('.');
    // canonical base64url only: one token has one spelling (Buffer.from would skip stray characters and
    // accept other spellings of the same signature, each of which would take its own cache entry)
    if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part)))
      return { ok: false, reason: 'malformed' };
    let header: { alg?: string; typ?: string; kid?: string };
    let claims: AccessTokenClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object')
      return { ok: false, reason: 'malformed' };
    if (header.alg !== 'ES256' || typeof header.kid !== 'string')
      return { ok: false, reason: 'bad_signature' };
    if (header.typ !== 'at+jwt' && header.typ !== 'application/at+jwt')
      return { ok: false, reason: 'wrong_type' };
    const key = await this.keys.publicKey(header.kid);
    if (!key) return { ok: false, reason: 'bad_signature' };
    const signature = Buffer.from(parts[2], 'base64url');
    if (signature.length !== 64 || signature.toString('base64url') !== parts[2])
      return { ok: false, reason: 'bad_signature' };
    const valid = verify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`),
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    );
    if (!valid) return { ok: false, reason: 'bad_signature' };
    const result = this.checkClaims(claims, now);
    if (result.ok) this.verified.remember(token, header.kid, claims);
    return result;
  }

  private checkClaims(
    claims: AccessTokenClaims,
    now: number,
  ): { ok: true; claims: AccessTokenClaims } | { ok: false; reason: VerifyFailure } {
    if (claims.iss !== this.oauth.issuer) return { ok: false, reason: 'wrong_issuer' };
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { ok: false, reason: 'expired' };
    if (
      typeof claims.jti !== 'string' ||
      typeof claims.gid !== 'string' ||
      typeof claims.client_id !== 'string' ||
      (claims.cnf !== undefined && typeof claims.cnf?.jkt !== 'string')
    )
      return { ok: false, reason: 'malformed' };
    return { ok: true, claims };
  }

  /**
   * True when the token's grant is live, its client enabled, its user (if any) enabled and the token itself
   * not revoked. Disabling a user revokes the user's grants anyway; the user check keeps the contract
   * ("a disabled user's tokens introspect active: false") whatever disabled the user.
   */
  async isActive(claims: AccessTokenClaims): Promise<boolean> {
    // ids that are not UUIDs are inactive: GrantsRepository.accessTokenActive answers them without a query
    return this.grants.accessTokenActive(claims.gid, claims.jti);
  }

  /**
   * Signature, claims and revocation state: the full check of the bearer guard and userinfo. (Introspection reads the
   * state in its own statement, with its audit event: tokens/introspection.repository.ts.)
   */
  async verify(token: string): Promise<AccessTokenClaims | null> {
    const result = await this.verifySignature(token);
    if (!result.ok) return null;
    return (await this.isActive(result.claims)) ? result.claims : null;
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
