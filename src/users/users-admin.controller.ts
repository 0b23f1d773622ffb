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
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { isPlausibleClientId } from '../clients/clients.service';
import { JsonObjectBodyInterceptor } from '../http/json-body.interceptor';
import type { HttpRequest } from '../http/http';
import { RequireScopes } from '../api-auth/api-auth.guard';
import type { ApiPrincipal } from '../api-auth/bearer.strategy';
import { CreateUserDto } from './dto/create-user.dto';
import { ListGrantsQuery, ListUsersQuery } from './dto/list-users.query';
import { UpdateUserDto } from './dto/update-user.dto';
import {
  GRANT_EXAMPLE,
  USER_EXAMPLE,
  UserGrantListResponseDto,
  UserListResponseDto,
  UserResponseDto,
} from './dto/user-response.dto';
import { UsersAdminService, type UsersActor } from './users-admin.service';

const Actor = createParamDecorator((_data: unknown, ctx: ExecutionContext): UsersActor => {
  const principal = ctx.switchToHttp().getRequest<HttpRequest>().user as ApiPrincipal;
  return { clientId: principal.clientId };
});

const BAD_REQUEST_EXAMPLE = {
  statusCode: 400,
  error: 'Bad Request',
  message: ['the password must be at least 12 characters'],
  fields: { password: ['the password must be at least 12 characters'] },
  request_id: '0f8c7f1e-2b7a-4a39-9d59-5c1f0a7c9e11',
};
const NOT_FOUND_EXAMPLE = {
  statusCode: 404,
  error: 'Not Found',
  message: 'no such user',
  request_id: '0f8c7f1e-2b7a-4a39-9d59-5c1f0a7c9e11',
};
const CONFLICT_EXAMPLE = {
  statusCode: 409,
  error: 'Conflict',
  message: 'a user named "Ada" already exists (usernames are case-insensitive)',
  fields: { username: ['a user named "Ada" already exists (usernames are case-insensitive)'] },
  request_id: '0f8c7f1e-2b7a-4a39-9d59-5c1f0a7c9e11',
};

/** docs/users.md: end users, for platform admins holding users:read / users:write. */
@ApiTags('admin: users')
@Controller('admin/users')
export class UsersAdminController {
  constructor(private readonly users: UsersAdminService) {}

  @Post()
  @RequireScopes('users:write')
  @UseInterceptors(JsonObjectBodyInterceptor)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Create a user',
    description:
      'The password is stored only as a scrypt hash and never returned. Defaults: email_verified false, enabled true.',
  })
  @ApiBody({
    type: CreateUserDto,
    examples: {
      minimal: {
        summary: 'username and password',
        value: { username: 'ada', password: 'correct horse battery staple' },
      },
      profile: {
        summary: 'with a profile (OIDC claims)',
        value: {
          username: 'ada',
          password: 'correct horse battery staple',
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          email_verified: true,
        },
      },
    },
  })
  @ApiCreatedResponse({ type: UserResponseDto, example: USER_EXAMPLE })
  @ApiBadRequestResponse({
    description: 'a field is invalid (each bad field is named)',
    example: BAD_REQUEST_EXAMPLE,
  })
  @ApiConflictResponse({
    description: 'the username is taken (case-insensitively)',
    example: CONFLICT_EXAMPLE,
  })
  create(@Body() body: CreateUserDto, @Actor() actor: UsersActor): Promise<UserResponseDto> {
    return this.users.create(body, actor);
  }

  @Get()
  @RequireScopes('users:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'List users',
    description:
      'Oldest first; follow next_cursor until it is null. `username` finds one user (case-insensitive).',
  })
  @ApiOkResponse({ type: UserListResponseDto, example: { items: [USER_EXAMPLE], next_cursor: null } })
  @ApiBadRequestResponse({
    description: 'bad limit or cursor',
    example: {
      ...BAD_REQUEST_EXAMPLE,
      message: ['limit must not be greater than 200'],
      fields: { limit: ['limit must not be greater than 200'] },
    },
  })
  list(@Query() query: ListUsersQuery): Promise<UserListResponseDto> {
    return this.users.list(query.limit, query.cursor, query.username);
  }

  @Get(':id')
  @RequireScopes('users:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Read a user' })
  @ApiParam({ name: 'id', example: USER_EXAMPLE.id })
  @ApiOkResponse({ type: UserResponseDto, example: USER_EXAMPLE })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  get(@Param('id') id: string): Promise<UserResponseDto> {
    return this.users.get(id);
  }

  @Patch(':id')
  @RequireScopes('users:write')
  @UseInterceptors(JsonObjectBodyInterceptor)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Update a user',
    description:
      'Any subset of password, name, email, email_verified, enabled. Disabling the user or setting a ' +
      'password ends all of its sessions and revokes all of its grants (and their tokens).',
  })
  @ApiParam({ name: 'id', example: USER_EXAMPLE.id })
  @ApiBody({
    type: UpdateUserDto,
    examples: {
      disable: { summary: 'disable (ends sessions, revokes grants)', value: { enabled: false } },
      reset: { summary: 'reset the password', value: { password: 'a new long passphrase' } },
      profile: {
        summary: 'change the e-mail address',
        value: { email: 'ada@example.org', email_verified: false },
      },
    },
  })
  @ApiOkResponse({ type: UserResponseDto, example: { ...USER_EXAMPLE, enabled: false } })
  @ApiBadRequestResponse({ example: BAD_REQUEST_EXAMPLE })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  update(
    @Param('id') id: string,
    @Body() body: UpdateUserDto,
    @Actor() actor: UsersActor,
  ): Promise<UserResponseDto> {
    return this.users.update(id, body, actor);
  }

  @Delete(':id')
  @RequireScopes('users:write')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete a user',
    description: 'Ends its sessions; revokes its grants and consents.',
  })
  @ApiParam({ name: 'id', example: USER_EXAMPLE.id })
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  async delete(@Param('id') id: string, @Actor() actor: UsersActor): Promise<void> {
    await this.users.delete(id, actor);
  }

  @Get(':id/grants')
  @RequireScopes('users:read')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "List a user's grants",
    description: 'One item per client the user granted access to (its live grants together), by client_id.',
  })
  @ApiParam({ name: 'id', example: USER_EXAMPLE.id })
  @ApiOkResponse({ type: UserGrantListResponseDto, example: { items: [GRANT_EXAMPLE], next_cursor: null } })
  @ApiBadRequestResponse({ description: 'bad limit or cursor', example: BAD_REQUEST_EXAMPLE })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  grants(@Param('id') id: string, @Query() query: ListGrantsQuery): Promise<UserGrantListResponseDto> {
    return this.users.listGrants(id, query.limit, query.cursor);
  }

  @Delete(':id/grants/:client_id')
  @RequireScopes('users:write')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Revoke what a user granted a client',
    description:
      "That client's grants and tokens for the user, and the remembered consent (asked again next time).",
  })
  @ApiParam({ name: 'id', example: USER_EXAMPLE.id })
  @ApiParam({ name: 'client_id', example: GRANT_EXAMPLE.client_id })
  @ApiNoContentResponse({ description: 'revoked (also when there was nothing to revoke)' })
  @ApiNotFoundResponse({ example: NOT_FOUND_EXAMPLE })
  async revokeGrants(
    @Param('id') id: string,
    @Param('client_id') clientId: string,
    @Actor() actor: UsersActor,
  ): Promise<void> {
    if (!isPlausibleClientId(clientId))
      throw new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'no such client' });
    await this.users.revokeClientGrants(id, clientId, actor);
  }
}
