import { Module } from '@nestjs/common';
import { ClientsModule } from '../clients/clients.module';
import { DpopModule } from '../dpop/dpop.module';
import { KeysModule } from '../keys/keys.module';
import { UsersModule } from '../users/users.module';
import { IdTokenHintVerifier } from './id-token-hint.verifier';
import { IdTokenIssuer } from './id-token.issuer';
import { LogoutController } from './logout.controller';
import { ResourceTokenAuthenticator } from './resource-token.authenticator';
import { UserinfoController } from './userinfo.controller';

/**
 * OpenID Connect on top of the OAuth core: id_tokens (issued by the token endpoint through IdTokenIssuer),
 * /oauth/userinfo, RP-Initiated Logout at /oauth/logout. Discovery is served with the RFC 8414 metadata.
 */
@Module({
  imports: [KeysModule, DpopModule, UsersModule, ClientsModule],
  controllers: [UserinfoController, LogoutController],
  providers: [IdTokenIssuer, IdTokenHintVerifier, ResourceTokenAuthenticator],
  exports: [IdTokenIssuer],
})
export class OidcModule {}
