import { Module, type DynamicModule } from '@nestjs/common';
import { LATCHKEY_CLIENT_OPTIONS, LATCHKEY_CLIENT_STORE, type LatchkeyClientOptions } from './client.options';
import { InMemoryClientStore } from './in-memory-client.store';
import { createAuthController } from './latchkey-auth.controller';
import { LatchkeyClientService } from './latchkey-client.service';
import { SignedInGuard } from './signed-in.guard';

/**
 * Signs users in with Latchkey (authorization code + PKCE, server-side, for a web app or a BFF):
 *
 *   LatchkeyClientModule.forRoot({ issuer, clientId, redirectUri: 'https://app.example/auth/callback',
 *                                  scope: 'api:read', store: new PostgresClientStore({ db: pool, encryptionKey }) })
 *
 * mounts GET /auth/login, GET <redirectUri's path>, POST /auth/logout, and provides LatchkeyClientService
 * and SignedInGuard / @LatchkeySession() for the app's routes.
 */
@Module({})
export class LatchkeyClientModule {
  static forRoot(options: LatchkeyClientOptions): DynamicModule {
    const routes = options.routes;
    const controllers =
      routes === false
        ? []
        : [
            createAuthController({
              login: routes?.login ?? '/auth/login',
              callback: routes?.callback ?? new URL(options.redirectUri).pathname,
              logout: routes?.logout ?? '/auth/logout',
            }),
          ];
    return {
      module: LatchkeyClientModule,
      global: true,
      controllers,
      providers: [
        { provide: LATCHKEY_CLIENT_OPTIONS, useValue: options },
        { provide: LATCHKEY_CLIENT_STORE, useValue: options.store ?? new InMemoryClientStore() },
        LatchkeyClientService,
        SignedInGuard,
      ],
      exports: [LATCHKEY_CLIENT_OPTIONS, LATCHKEY_CLIENT_STORE, LatchkeyClientService, SignedInGuard],
    };
  }
}
