import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { AccessTokenVerifier } from '../keys/access-token.verifier';

/** The caller behind a verified bearer token on /admin and /audit. */
export interface ApiPrincipal {
  clientId: string;
  subject: string;
  scopes: string[];
  grantId: string;
  jti: string;
  /** client_credentials tokens have sub = client_id; user tokens have a UUID sub. */
  isClientToken: boolean;
  /** RFC 9449: the DPoP key the token is bound to (cnf.jkt), if any */
  jkt?: string;
}

/** passport strategy 'bearer': RFC 6750 Authorization header, this server's JWT access tokens. */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(
    private readonly verifier: AccessTokenVerifier,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {
    super();
  }

  async validate(token: string): Promise<ApiPrincipal | false> {
    const claims = await this.verifier.verify(token);
    if (!claims) return false;
    // RFC 9068 §4: the token must be meant for this server's APIs (aud = ISSUER), not for a resource server
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.oauth.issuer)) return false;
    return {
      clientId: claims.client_id,
      subject: claims.sub,
      scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
      grantId: claims.gid,
      jti: claims.jti,
      isClientToken: claims.sub === claims.client_id,
      ...(claims.cnf ? { jkt: claims.cnf.jkt } : {}),
    };
  }
}
