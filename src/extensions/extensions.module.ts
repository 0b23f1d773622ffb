import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LatchkeyExtensions } from './latchkey-extensions';

/**
 * The registry of extensions (docs/extending.md), global so that the report service and the token issuers can
 * ask it. Teams do not import this module: they write their own and import it next to AppModule.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [LatchkeyExtensions],
  exports: [LatchkeyExtensions],
})
export class LatchkeyExtensionsModule {}
