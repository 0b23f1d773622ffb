import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { DpopModule } from '../dpop/dpop.module';
import { KeysModule } from '../keys/keys.module';
import { BearerAuthGuard, ScopesGuard } from './api-auth.guard';
import { BearerStrategy } from './bearer.strategy';

/**
 * The bearer guard and @RequireScopes of the admin and audit APIs (/admin, /audit): this server's access tokens,
 * DPoP-bound ones checked against their proof. Below clients, users and audit, which import it; above keys.
 */
@Module({
  imports: [KeysModule, PassportModule, DpopModule],
  providers: [BearerStrategy, BearerAuthGuard, ScopesGuard],
  // the guards are instantiated in the modules that use them: what they inject is exported too
  exports: [BearerAuthGuard, ScopesGuard, BearerStrategy, DpopModule],
})
export class ApiAuthModule {}
