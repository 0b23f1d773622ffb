import { Inject, Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { BUILTIN_SCOPES } from '../common/scopes';
import type { TokenClaimsInput } from '../extensions/extension-points';
import { LatchkeyExtensions } from '../extensions/latchkey-extensions';
import { KeyStore } from '../keys/key-store.service';
import type { AccessTokenClaims } from '../keys/access-token.verifier';

/**
 * RFC 9068 JWT access tokens (ES256, typ at+jwt, kid): iss, sub, aud, client_id, scope, iat, exp, jti, and
 * gid = the grant the token belongs to (what revocation and the verifier check); `cnf.jkt` when DPoP-bound.
 */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    private readonly keys: KeyStore,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
    @Optional() private readonly extensions?: LatchkeyExtensions,
  ) {}

  /** Claims of extensions (docs/extending.md) come first: a registered claim is never theirs to set. */
  async issue(input: {
    subject: string;
    clientId: string;
    scope: string;
    grantId: string;
    grantType: TokenClaimsInput['grantType'];
    jkt?: string;
  }): Promise<{ accessToken: string; expiresIn: number }> {
    const extra = this.extensions?.hasClaimsProviders
      ? await this.extensions.claims({
          token: 'access_token',
          grantType: input.grantType,
          subject: input.subject,
          userId: input.grantType === 'client_credentials' ? null : input.subject,
          clientId: input.clientId,
          scopes: input.scope.split(' ').filter(Boolean),
          grantId: input.grantId,
        })
      : undefined;
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = {
      iss: this.oauth.issuer,
      sub: input.subject,
      aud: this.audienceFor(input.scope),
      client_id: input.clientId,
      scope: input.scope,
      iat,
      exp: iat + this.oauth.accessTokenTtl,
      jti: randomUUID(),
      gid: input.grantId,
      // RFC 9449 §6.1: bound to the key of the token request's DPoP proof
      ...(input.jkt ? { cnf: { jkt: input.jkt } } : {}),
    };
    return {
      accessToken: this.keys.signJwt(
        extra ? { ...extra, ...claims } : (claims as unknown as Record<string, unknown>),
      ),
      expiresIn: this.oauth.accessTokenTtl,
    };
  }

  /** Tokens carrying built-in scopes are for this server's own APIs; the others for ACCESS_TOKEN_AUDIENCE. */
  audienceFor(scope: string): string {
    const builtin = scope.split(' ').some((s) => BUILTIN_SCOPES.includes(s));
    return builtin ? this.oauth.issuer : this.oauth.accessTokenAudience;
  }
}
