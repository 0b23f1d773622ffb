import {
  Body,
  Controller,
  createParamDecorator,
  Delete,
  ExecutionContext,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  Query,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { HttpRequest } from '../http/http';
import { RequireScopes } from '../api-auth/api-auth.guard';
import type { ApiPrincipal } from '../api-auth/bearer.strategy';
import { isPlausibleClientId } from './clients.service';
import { ClientsAdminService, type ClientsActor } from './clients-admin.service';
import {
  CLIENT_EXAMPLE,
  ClientListResponseDto,
  ClientResponseDto,
  ClientSecretResponseDto,
  CreatedClientResponseDto,
  SECRET_EXAMPLE,
} from './dto/client-response.dto';
import { CreateClientDto } from './dto/create-client.dto';
import { ListClientsQuery } from './dto/list-clients.query';
import { UpdateClientDto } from './dto/update-client.dto';
import { JsonObjectBodyInterceptor } from '../http/json-body.interceptor';

/** The admin API caller (set by the bearer guard of @RequireScopes) as the registry's actor. */
const Actor = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientsActor => {
  const principal = ctx.switchToHttp().getRequest<HttpRequest>().user as ApiPrincipal;
  return { kind: 'client', clientId: principal.clientId, scopes: principal.scopes };
});

const BAD_REQUEST_EXAMPLE = {
  statusCode: 400,
  error: 'Bad Request',
  message: ['redirect_uris[0] must use https (http only for the loopback addresses 127.0.0.1 and [::1])'],
  fields: {
    redirect_uris: [
      'redirect_uris[0] must use https (http only for the loopback addresses 127.0.0.1 and [::1])',
    ],
  },
  request_id: '0f8c7f1e-2b7a-4a39-9d59-5c1f0a7c9e11',
};
const NOT_FOUND_EXAMPLE = {
  statusCode: 404,
  error: 'Not Found',
  message: 'no such client',
  request_id: '0f8c7f1e-2b7a-4a39-9d59-5c1f0a7c9e11',
};

/** docs/admin-api.md: the client registry, for platform admins holding clients:read / clients:write. */
@ApiTags('admin: clients')
@Controller('admin/clients')
export class ClientsAdminController {
  constructor(private readonly clients: ClientsAdminService) {}

  @Post()
  @RequireScopes('clients:write')
  @UseInterceptors(JsonObjectBodyInterceptor)
  @ApiUnsupportedMediaTypeResponse({ description: 'the body is not application/json' })
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Register a client',
    description:
      'Returns the client with its client_secret (confidential clients) — the only time the secret is shown ' +
      'besides rotation. Defaults: grant_types ["authorization_code"], token_endpoint_auth_method ' +
      '"client_secret_basic", scope "", require_consent false, enabled true, dpop_bound_access_tokens false, ' +
      'require_pushed_authorization_requests false.',
  })
  @ApiBody({
    type: CreateClientDto,
    examples: {
      web: {
        summary: 'web application (confidential, authorization code + refresh)',
        value: {
          client_name: 'Billing dashboard',
          redirect_uris: ['https://billing.example.com/oauth/callback'],
          grant_types: ['authorization_code', 'refresh_token'],
          scope: 'api:read api:write',
        },
      },
      spa: {
        summary: 'single-page or native app (public client)',
        value: {
          client_name: 'Mobile app',
          token_endpoint_auth_method: 'none',
          redirect_uris: ['com.example.app:/oauth/callback', 'http://127.0.0.1/callback'],
          scope: 'api:read',
        },
      },
      service: {
        summary: 'service account with admin rights (client_credentials)',
        value: {
          client_name: 'Provisioning job',
          grant_types: ['client_credentials'],
          scope: 'clients:read',
        },
      },
    },
  })
  @ApiCreatedResponse({
    type: CreatedClientResponseDto,
    example: { ...CLIENT_EXAMPLE, client_secret: SECRET_EXAMPLE },
  })
  @ApiBadRequestResponse({
    description: 'a field is invalid (each bad field is named)',
    example: BAD_REQUEST_EXAMPLE,
  })
  create(@Body() body: CreateClientDto, @Actor() actor: ClientsActor): Promise<CreatedClientResponseDto> {
    return this.clients.create(body, actor);
  }

  @Get()
  @RequireScopes('clients:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'List clients',
    description: 'Oldest first; follow next_cursor until it is null.',
  })
  @ApiOkResponse({ type: ClientListResponseDto, example: { items: [CLIENT_EXAMPLE], next_cursor: null } })
  @ApiBadRequestResponse({
    description: 'bad limit or cursor',
    example: {
      ...BAD_REQUEST_EXAMPLE,
      message: ['limit must not be greater than 200'],
      fields: { limit: ['limit must not be greater than 200'] },
    },
  })
  list(@Query() query: ListClientsQuery): Promise<ClientListResponseDto> {
    return this.clients.list(query.limit, query.cursor);
  }

  @Get(':client_id')
  @RequireScopes('clients:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Read a client' })
  @ApiParam({ name: 'client_id', example: CLIENT_EXAMPLE.client_id })
  @ApiOkResponse({ type: ClientResponseDto, example: CLIENT_EXAMPLE })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  get(@Param('client_id') clientId: string): Promise<ClientResponseDto> {
    return this.clients.get(plausible(clientId));
  }

  @Patch(':client_id')
  @RequireScopes('clients:write')
  @UseInterceptors(JsonObjectBodyInterceptor)
  @ApiUnsupportedMediaTypeResponse({ description: 'the body is not application/json' })
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Update a client',
    description:
      'Any subset of the registration fields; the result must satisfy every rule. Disabling the client, or ' +
      'removing a scope or grant type from it, revokes all its live grants and tokens.',
  })
  @ApiParam({ name: 'client_id', example: CLIENT_EXAMPLE.client_id })
  @ApiBody({
    type: UpdateClientDto,
    examples: {
      rename: { summary: 'rename', value: { client_name: 'Billing dashboard (EU)' } },
      disable: { summary: 'disable (revokes its tokens)', value: { enabled: false } },
    },
  })
  @ApiOkResponse({
    type: ClientResponseDto,
    example: { ...CLIENT_EXAMPLE, client_name: 'Billing dashboard (EU)' },
  })
  @ApiBadRequestResponse({ example: BAD_REQUEST_EXAMPLE })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  update(
    @Param('client_id') clientId: string,
    @Body() body: UpdateClientDto,
    @Actor() actor: ClientsActor,
  ): Promise<ClientResponseDto> {
    return this.clients.update(plausible(clientId), body, actor);
  }

  @Delete(':client_id')
  @RequireScopes('clients:write')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a client', description: 'Revokes all its grants and tokens at once.' })
  @ApiParam({ name: 'client_id', example: CLIENT_EXAMPLE.client_id })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  async delete(@Param('client_id') clientId: string, @Actor() actor: ClientsActor): Promise<void> {
    await this.clients.delete(plausible(clientId), actor);
  }

  @Post(':client_id/secret')
  @RequireScopes('clients:write')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Rotate the client secret',
    description:
      'Returns a new secret, shown only this once. The previous secret stays valid for ' +
      'CLIENT_SECRET_ROTATION_OVERLAP (default 0: not at all). Public clients have no secret (400).',
  })
  @ApiParam({ name: 'client_id', example: CLIENT_EXAMPLE.client_id })
  @ApiOkResponse({ type: ClientSecretResponseDto, example: { client_secret: SECRET_EXAMPLE } })
  @ApiBadRequestResponse({
    example: {
      ...BAD_REQUEST_EXAMPLE,
      message: ['the client is public (token_endpoint_auth_method none) and has no secret'],
      fields: {
        token_endpoint_auth_method: [
          'the client is public (token_endpoint_auth_method none) and has no secret',
        ],
      },
    },
  })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  rotateSecret(
    @Param('client_id') clientId: string,
    @Actor() actor: ClientsActor,
  ): Promise<ClientSecretResponseDto> {
    return this.clients.rotateSecret(plausible(clientId), actor);
  }
}

/** An id that cannot exist is simply not found (and never reaches SQL as junk). */
function plausible(clientId: string): string {
  if (!isPlausibleClientId(clientId))
    throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'no such client' });
  return clientId;
}
