import { OidcModule } from '../oidc/oidc.module';
import { Module } from '@nestjs/common';
import { TokensPurge } from './tokens.purge';
import { PassportModule } from '@nestjs/passport';
import { RateLimitModule } from '../rate-limit/rate-limit.module';
import { AuthorizationModule } from '../authorization/authorization.module';
import { ClientsModule } from '../clients/clients.module';
import { GrantsModule } from '../grants/grants.module';
import { KeysModule } from '../keys/keys.module';
import { DpopModule } from '../dpop/dpop.module';
import { AccessTokenIssuer } from './access-token.issuer';
import { ClientAuthGuard } from './client-auth/client-auth.guard';
import {
  ClientSecretBasicStrategy,
  ClientSecretPostStrategy,
  PublicClientStrategy,
} from './client-auth/client-auth.strategies';
import { ClientAuthenticator } from './client-auth/client-authenticator.service';
import { AuthorizationCodeGrant } from './grants/authorization-code.grant';
import { ClientCredentialsGrant } from './grants/client-credentials.grant';
import { RefreshTokenGrant } from './grants/refresh-token.grant';
import { IntrospectionRepository } from './introspection.repository';
import { IntrospectionService } from './introspection.service';
import { MetadataController } from './metadata.controller';
import { ParController } from './par.controller';
import {
  IntrospectionRequestGuard,
  ParRequestGuard,
  RevocationRequestGuard,
  TokenRequestGuard,
} from './protocol-request.guards';
import { RevocationService } from './revocation.service';
import { TokenEndpointService } from './token-endpoint.service';
import { TokenController } from './token.controller';
import { TokensRepository } from './tokens.repository';

/**
 * POST /oauth/token, /oauth/revoke, /oauth/introspect and the RFC 8414 metadata. Client authentication is
 * done by passport strategies (client_secret_basic, client_secret_post, none). Exports only its purge for
 * housekeeping: other modules see tokens through the keys module's AccessTokenVerifier and the grants module.
 */
@Module({
  imports: [
    PassportModule,
    ClientsModule,
    AuthorizationModule,
    KeysModule,
    GrantsModule,
    OidcModule,
    DpopModule,
    RateLimitModule,
  ],
  controllers: [TokenController, MetadataController, ParController],
  providers: [
    TokensPurge,
    TokensRepository,
    IntrospectionRepository,
    AccessTokenIssuer,
    AuthorizationCodeGrant,
    RefreshTokenGrant,
    ClientCredentialsGrant,
    TokenEndpointService,
    RevocationService,
    IntrospectionService,
    ClientAuthenticator,
    ClientSecretBasicStrategy,
    ClientSecretPostStrategy,
    PublicClientStrategy,
    ClientAuthGuard,
    TokenRequestGuard,
    RevocationRequestGuard,
    IntrospectionRequestGuard,
    ParRequestGuard,
  ],
  exports: [TokensPurge],
})
export class TokensModule {}
