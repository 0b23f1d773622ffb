import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GrantsModule } from '../grants/grants.module';
import { AccessTokenVerifier } from './access-token.verifier';
import { JwksController } from './jwks.controller';
import { KeyStore } from './key-store.service';
import { SigningKeyEntity } from './signing-key.entity';
import { SigningKeysRepository } from './signing-keys.repository';

/**
 * Signing keys, the JWKS, and verification of this server's access tokens. The bearer guard of the admin and
 * audit APIs is in api-auth/, above this module.
 */
@Module({
  imports: [TypeOrmModule.forFeature([SigningKeyEntity]), GrantsModule],
  controllers: [JwksController],
  providers: [SigningKeysRepository, KeyStore, AccessTokenVerifier],
  exports: [KeyStore, AccessTokenVerifier],
})
export class KeysModule {}
