import { Module } from '@nestjs/common';
import { DpopPurge } from './dpop.purge';
import { DpopProofVerifier } from './dpop-proof.verifier';
import { DpopProofsRepository } from './dpop-proofs.repository';
import { DpopResourceCheck } from './dpop-resource.check';

/**
 * DPoP proof validation (RFC 9449), one service for every place a proof is presented: the token endpoint and
 * PAR (DpopProofVerifier) and the protected resources (DpopResourceCheck: the admin/audit bearer guard, and
 * userinfo). Depends on nothing but configuration and the database, so both the keys module (the bearer guard)
 * and the tokens module import it without a module circle.
 */
@Module({
  providers: [DpopPurge, DpopProofsRepository, DpopProofVerifier, DpopResourceCheck],
  exports: [DpopPurge, DpopProofVerifier, DpopResourceCheck],
})
export class DpopModule {}
