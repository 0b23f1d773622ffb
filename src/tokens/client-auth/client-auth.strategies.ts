import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import type { AuthenticatableClient } from '../../clients/clients.service';
import { InvalidClient } from '../../common/oauth-errors';
import type { OAuthRequest } from '../oauth-request';
import { ClientAuthenticator } from './client-authenticator.service';
import { allowCorsFrom } from '../../http/cors';
import { CLIENT_AUTH_STRATEGIES, type PresentedCredentials } from './presented-credentials';

/**
 * passport strategies, one per token_endpoint_auth_method (RFC 6749 §2.3.1, OAuth 2.1 §2.4). ClientAuthGuard
 * decides which one a request uses (exactly one method per request) and stores the parsed credentials on the
 * request; the strategy authenticates them.
 */
function authenticate(
  authenticator: ClientAuthenticator,
  method: PresentedCredentials['method'],
  req: OAuthRequest,
): Promise<AuthenticatableClient> {
  const presented = req.oauth?.presented;
  if (!presented || presented.method !== method) {
    return Promise.reject(new InvalidClient('client authentication failed', 'method_not_allowed'));
  }
  return authenticator.authenticate(presented, (client) => {
    // CORS for browser-based clients: the origins of their registered redirect URIs (also on failure,
    // so that the page can read the error).
    if (req.oauth?.cors) allowCorsFrom(req, req.oauth.cors, client.redirectUris);
  });
}

/** client_secret_basic: `Authorization: Basic base64(urlencode(id):urlencode(secret))`. */
@Injectable()
export class ClientSecretBasicStrategy extends PassportStrategy(
  Strategy,
  CLIENT_AUTH_STRATEGIES.client_secret_basic,
) {
  constructor(private readonly authenticator: ClientAuthenticator) {
    super();
  }
  validate(req: OAuthRequest): Promise<AuthenticatableClient> {
    return authenticate(this.authenticator, 'client_secret_basic', req);
  }
}

/** client_secret_post: `client_id` and `client_secret` in the form body. */
@Injectable()
export class ClientSecretPostStrategy extends PassportStrategy(
  Strategy,
  CLIENT_AUTH_STRATEGIES.client_secret_post,
) {
  constructor(private readonly authenticator: ClientAuthenticator) {
    super();
  }
  validate(req: OAuthRequest): Promise<AuthenticatableClient> {
    return authenticate(this.authenticator, 'client_secret_post', req);
  }
}

/** none: public clients send `client_id` only (their security is PKCE). */
@Injectable()
export class PublicClientStrategy extends PassportStrategy(Strategy, CLIENT_AUTH_STRATEGIES.none) {
  constructor(private readonly authenticator: ClientAuthenticator) {
    super();
  }
  validate(req: OAuthRequest): Promise<AuthenticatableClient> {
    return authenticate(this.authenticator, 'none', req);
  }
}
