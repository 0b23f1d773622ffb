import { Inject, Injectable, Optional } from '@nestjs/common';
import { AuditEmitter } from '../events/events';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { LatchkeyExtensions } from '../extensions/latchkey-extensions';
import { KeyStore } from '../keys/key-store.service';
import { UsersService } from '../users/users.service';
import { scopedClaims, type ClaimsSource } from './user-claims';

/** What an id_token is about: the grant's user, client and scope, and what the login left in the grant. */
export interface IdTokenInput {
  userId: string;
  clientId: string;
  /** the grant's scope (space-separated): no id_token without `openid` */
  scope: string;
  grantId: string;
  nonce: string | null;
  authTime: Date | null;
  sid: string | null;
  /** the token request's grant type (for claims providers, docs/extending.md) */
  grantType?: 'authorization_code' | 'refresh_token';
  /** the user's profile when the caller's statement already read it (the token endpoint's); read here otherwise */
  profile?: ClaimsSource;
}

/**
 * OIDC Core §2 / §3.1.3.3 id_tokens, ES256 with the key store's current key (rotation included: the JWKS
 * keeps retired keys until ID_TOKEN_TTL has passed): `iss`, `sub` (the access token's), `aud` = client_id,
 * `exp`, `iat`, `auth_time`, `nonce` (as sent), `amr: ["pwd"]`, `sid`, and the profile/email claims of the
 * granted scopes. Each one is audited (`id_token.issued`).
 */
@Injectable()
export class IdTokenIssuer {
  constructor(
    private readonly keys: KeyStore,
    private readonly users: UsersService,
    private readonly audit: AuditEmitter,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
    @Optional() private readonly extensions?: LatchkeyExtensions,
  ) {}

  /** The id_token for a grant, or undefined when the grant has no `openid` scope (or no user). */
  async issue(input: IdTokenInput): Promise<string | undefined> {
    const scopes = input.scope.split(' ');
    if (!scopes.includes('openid')) return undefined;
    const user = input.profile ?? (await this.users.findProfile(input.userId));
    if (!user) return undefined;
    const iat = Math.floor(Date.now() / 1000);
    // claims of extensions first: the standard claims and the scopes' profile/email claims win over them
    const extra = this.extensions?.hasClaimsProviders
      ? await this.extensions.claims({
          token: 'id_token',
          grantType: input.grantType ?? 'authorization_code',
          subject: user.id,
          userId: user.id,
          clientId: input.clientId,
          scopes,
          grantId: input.grantId,
        })
      : undefined;
    const payload: Record<string, unknown> = {
      ...extra,
      iss: this.oauth.issuer,
      sub: user.id,
      aud: input.clientId,
      exp: iat + this.oauth.idTokenTtl,
      iat,
      ...(input.authTime ? { auth_time: Math.floor(new Date(input.authTime).getTime() / 1000) } : {}),
      ...(input.nonce !== null ? { nonce: input.nonce } : {}),
      amr: ['pwd'],
      ...(input.sid ? { sid: input.sid } : {}),
      ...scopedClaims(user, scopes),
    };
    const idToken = this.keys.signJwt(payload, 'JWT');
    await this.audit.record({
      type: 'id_token.issued',
      outcome: 'success',
      clientId: input.clientId,
      subject: user.id,
      details: { grant_id: input.grantId, scope: input.scope },
    });
    return idToken;
  }
}
