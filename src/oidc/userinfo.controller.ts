import { Controller, Get, HttpCode, Options, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ClientsService } from '../clients/clients.service';
import type { HttpReply, HttpRequest } from '../http/http';
import { AuditEmitter } from '../events/events';
import { allowCorsFrom } from '../http/cors';
import { UsersService } from '../users/users.service';
import { ResourceTokenAuthenticator, type ResourceTokenRefusal } from './resource-token.authenticator';
import { scopedClaims } from './user-claims';

/**
 * OIDC Core §5.3 UserInfo: GET and POST with a bearer access token holding `openid`; `sub` plus the claims
 * of the granted `profile`/`email` scopes. A disabled or deleted user, a revoked grant or a disabled client
 * → 401. CORS as at the token endpoint: the origins of the calling client's redirect URIs.
 */
@ApiTags('oauth')
@Controller('oauth/userinfo')
export class UserinfoController {
  constructor(
    private readonly tokens: ResourceTokenAuthenticator,
    private readonly users: UsersService,
    private readonly clients: ClientsService,
    private readonly audit: AuditEmitter,
  ) {}

  @Get()
  @ApiOkResponse({ description: 'the claims about the signed-in user (OIDC Core §5.3.2)' })
  get(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    return this.serve(req, res);
  }

  @Post()
  @HttpCode(200)
  @ApiOkResponse({ description: 'the same as GET (OIDC Core §5.3.1)' })
  post(@Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    return this.serve(req, res);
  }

  /** CORS preflight: allowed for any origin; the actual response is readable only by the client's origins. */
  @Options()
  @ApiExcludeEndpoint()
  preflight(@Req() req: HttpRequest, @Res() res: HttpReply): void {
    const origin = req.headers.origin;
    void res.header('Vary', 'Origin');
    if (typeof origin === 'string' && origin)
      void res
        .header('Access-Control-Allow-Origin', origin)
        .header('Access-Control-Allow-Methods', 'GET, POST')
        .header('Access-Control-Allow-Headers', 'Authorization, Content-Type')
        .header('Access-Control-Max-Age', '600');
    void res.code(204).send();
  }

  private async serve(req: HttpRequest, res: HttpReply): Promise<void> {
    void res.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
    const result = await this.tokens.authenticate(req, 'openid');
    if (!result.ok) return this.refuse(res, result.refusal, null);
    const { claims } = result;
    const client = await this.clients.findEnabled(claims.client_id);
    if (client) allowCorsFrom(req, res, client.redirectUris);
    const user = await this.users.findProfile(claims.sub);
    if (!user || !user.enabled)
      return this.refuse(
        res,
        {
          status: 401,
          error: 'invalid_token',
          description: 'the access token is invalid, expired or revoked',
          reason: 'user_disabled',
        },
        claims.client_id,
        claims.sub,
      );
    await this.audit.record({
      type: 'userinfo.served',
      outcome: 'success',
      clientId: claims.client_id,
      subject: user.id,
      details: { scope: claims.scope },
    });
    void res
      .code(200)
      .type('application/json')
      .send({ sub: user.id, ...scopedClaims(user, claims.scope.split(' ')) });
  }

  private async refuse(
    res: HttpReply,
    refusal: ResourceTokenRefusal,
    clientId: string | null,
    subject?: string,
  ): Promise<void> {
    await this.audit.record({
      type: 'userinfo.refused',
      outcome: 'failure',
      errorCode: refusal.error ?? null,
      reason: refusal.reason,
      clientId,
      subject: subject ?? null,
      details: { reason: refusal.reason },
    });
    // RFC 6750 §3: no error attribute when no token was sent
    const params = ['realm="latchkey"'];
    if (refusal.error) params.push(`error="${refusal.error}"`);
    if (refusal.description) params.push(`error_description="${refusal.description}"`);
    if (refusal.error === 'insufficient_scope') params.push('scope="openid"');
    if (refusal.dpopNonce) void res.header('DPoP-Nonce', refusal.dpopNonce);
    void res
      .code(refusal.status)
      .header('WWW-Authenticate', `${refusal.scheme ?? 'Bearer'} ${params.join(', ')}`)
      .type('application/json')
      .send(
        refusal.error
          ? { error: refusal.error, error_description: refusal.description }
          : { error_description: 'a bearer access token is required' },
      );
  }
}
