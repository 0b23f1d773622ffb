import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { LatchkeyAuthGuard } from './latchkey-auth.guard';
import { LATCHKEY_INTROSPECT, LATCHKEY_SCOPES } from './metadata-keys';

/**
 * Protects a route (or every route of a controller): a valid Latchkey access token is required (401
 * otherwise) and it must hold every listed scope (403 insufficient_scope otherwise). `@Scopes()` with no
 * scope accepts any valid token.
 */
export function Scopes(...scopes: string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(LATCHKEY_SCOPES, scopes), UseGuards(LatchkeyAuthGuard));
}

/**
 * Marks a route that must see revocation at once: after the local checks, the token is introspected at
 * Latchkey (answers cached for a few seconds). Needs the `introspection` option of forRoot.
 */
export function Introspect(): MethodDecorator & ClassDecorator {
  return SetMetadata(LATCHKEY_INTROSPECT, true);
}
