import { Module, type DynamicModule } from '@nestjs/common';
import { LatchkeyClientModule } from '@latchkey/pkce-client';
import { LatchkeyResourceServerModule } from '@latchkey/resource-server';
import type { ExampleConfig } from './example.config';
import { InvoicesController } from './invoices.controller';
import { PageController } from './page.controller';
import { EXAMPLE_CONFIG } from './tokens';

/** Both libraries in one small app: the sign-in (BFF) and the protected API it calls. */
@Module({})
export class ExampleModule {
  static forRoot(config: ExampleConfig): DynamicModule {
    return {
      module: ExampleModule,
      imports: [
        LatchkeyClientModule.forRoot({
          issuer: config.issuer,
          clientId: config.clientId,
          clientSecret: config.clientSecret,
          redirectUri: `${config.url}/auth/callback`,
          scope: config.scope,
        }),
        LatchkeyResourceServerModule.forRoot({ issuer: config.issuer, audience: config.audience }),
      ],
      controllers: [PageController, InvoicesController],
      providers: [{ provide: EXAMPLE_CONFIG, useValue: config }],
    };
  }
}
