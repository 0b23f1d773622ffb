import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { VerifiedAccessToken } from './access-token.verifier';

/** The verified access token of the request (set by the guard of @Scopes()). */
export const AccessToken = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): VerifiedAccessToken | undefined =>
    ctx.switchToHttp().getRequest<{ latchkey?: VerifiedAccessToken }>().latchkey,
);
