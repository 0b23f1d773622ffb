import { Controller, Get, Header, HttpCode, Inject, Options } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { BUILTIN_SCOPES, OIDC_SCOPES } from '../common/scopes';
import { CLAIMS_SUPPORTED } from '../oidc/user-claims';
import { DPOP_SIGNING_ALGS } from '../dpop/dpop-proof.verifier';

/** RFC 8414 authorization server metadata, exactly the fields of docs/tokens.md, Metadata. */
export function authorizationServerMetadata(oauth: OAuthConfig) {
  const issuer = oauth.issuer;
  const authMethods = ['none', 'client_secret_basic', 'client_secret_post'];
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    jwks_uri: `${issuer}/oauth/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: [...new Set([...oauth.scopes, ...OIDC_SCOPES, ...BUILTIN_SCOPES])],
    authorization_response_iss_parameter_supported: true,
    // RFC 9449 §5.1
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    // RFC 9126 §5
    pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
    require_pushed_authorization_requests: oauth.requirePar,
  };
}

/**
 * OpenID Connect Discovery 1.0 §3: the RFC 8414 document plus the OIDC members (docs/openid-connect.md: every other
 * member identical in both).
 */
export function openIdConfiguration(oauth: OAuthConfig) {
  const issuer = oauth.issuer;
  return {
    ...authorizationServerMetadata(oauth),
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    end_session_endpoint: `${issuer}/oauth/logout`,
    id_token_signing_alg_values_supported: ['ES256'],
    subject_types_supported: ['public'],
    claims_supported: CLAIMS_SUPPORTED,
    response_modes_supported: ['query'],
    prompt_values_supported: ['none', 'login', 'consent'],
    request_parameter_supported: false,
    claims_parameter_supported: false,
  };
}

@ApiTags('oauth')
@Controller('.well-known')
export class MetadataController {
  private readonly document: ReturnType<typeof authorizationServerMetadata>;
  private readonly openid: ReturnType<typeof openIdConfiguration>;

  constructor(@Inject(oauthConfig.KEY) oauth: OAuthConfig) {
    this.document = authorizationServerMetadata(oauth);
    this.openid = openIdConfiguration(oauth);
  }

  /** RFC 8414 §3; readable from any origin (docs/tokens.md). */
  @Get('oauth-authorization-server')
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({ description: 'RFC 8414 authorization server metadata' })
  metadata() {
    return this.document;
  }

  /** OpenID Connect Discovery 1.0 §4; readable from any origin. */
  @Get('openid-configuration')
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOkResponse({ description: 'OpenID Provider metadata (Discovery 1.0 §3)' })
  openidConfiguration() {
    return this.openid;
  }

  @Options('openid-configuration')
  @HttpCode(204)
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Access-Control-Allow-Methods', 'GET')
  @Header('Access-Control-Max-Age', '600')
  openidPreflight(): void {}

  /** CORS preflight (a browser sends one only for non-simple requests; answered for any origin). */
  @Options('oauth-authorization-server')
  @HttpCode(204)
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Access-Control-Allow-Methods', 'GET')
  @Header('Access-Control-Max-Age', '600')
  preflight(): void {}
}
