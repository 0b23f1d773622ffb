import { Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DpopModule } from '../tokens/dpop/dpop.module';
import { AccessTokenVerifier } from './access-token.verifier';
import { BearerAuthGuard, ScopesGuard } from './api-auth.guard';
import { BearerStrategy } from './bearer.strategy';
import { JwksController } from './jwks.controller';
import { KeyStore } from './key-store.service';
import { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

/**
 * Signing keys, the JWKS, and verification of this server's access tokens (bearer strategy and guards).
 * Small on purpose: clients, audit and tokens all import it, so no module circle appears.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SigningKeyEntity]), PassportModule, DpopModule],
  controllers: [JwksController],
  providers: [
    SigningKeysRepository,
    KeyStore,
    AccessTokenVerifier,
    BearerStrategy,
    BearerAuthGuard,
    ScopesGuard,
  ],
  // the guards are instantiated in the modules that use them: what they inject is exported too
  exports: [KeyStore, AccessTokenVerifier, BearerAuthGuard, ScopesGuard, BearerStrategy, DpopModule],
})
export class KeysModule {}
