import { Module, type DynamicModule } from '@nestjs/common';
import { AccessTokenVerifier } from './access-token.verifier';
import { LatchkeyAuthGuard } from './latchkey-auth.guard';
import {
  LATCHKEY_RESOURCE_SERVER_OPTIONS,
  type LatchkeyResourceServerOptions,
} from './resource-server.options';

/**
 * Protects a team's Nest API with Latchkey access tokens:
 *
 *   @Module({ imports: [LatchkeyResourceServerModule.forRoot({ issuer, audience })] })
 *   ...
 *   @Get('invoices') @Scopes('api:read') list(@AccessToken() token: VerifiedAccessToken) { … }
 *
 * Global: @Scopes() works in every module of the application.
 */
@Module({})
export class LatchkeyResourceServerModule {
  static forRoot(options: LatchkeyResourceServerOptions): DynamicModule {
    return {
      module: LatchkeyResourceServerModule,
      global: true,
      providers: [
        { provide: LATCHKEY_RESOURCE_SERVER_OPTIONS, useValue: options },
        { provide: AccessTokenVerifier, useFactory: () => new AccessTokenVerifier(options) },
        LatchkeyAuthGuard,
      ],
      exports: [LATCHKEY_RESOURCE_SERVER_OPTIONS, AccessTokenVerifier, LatchkeyAuthGuard],
    };
  }
}
