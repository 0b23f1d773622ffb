import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { CliCommand, CliError } from '../operations/cli-command.decorator';
import { fieldsOf } from '../http/validation-errors';
import { ClientsAdminService } from './clients-admin.service';
import { CreateClientDto } from './dto/create-client.dto';

/** The CLI's names for the API fields, so that errors point at the flag to fix. */
const FLAGS: Record<string, string> = {
  client_name: '--name',
  token_endpoint_auth_method: '--auth-method',
  redirect_uris: '--redirect-uri',
  post_logout_redirect_uris: '--post-logout-redirect-uri',
  grant_types: '--grant-types',
  scope: '--scope',
  dpop_bound_access_tokens: '--dpop-bound',
  require_pushed_authorization_requests: '--require-par',
};

/** Options as src/cli/commands.ts passes them (through the server socket as JSON, so typed loosely). */
export interface ClientCreateOptions {
  name?: unknown;
  authMethod?: unknown;
  redirectUris?: unknown;
  postLogoutRedirectUris?: unknown;
  grantTypes?: unknown;
  scope?: unknown;
  dpopBound?: unknown;
  requirePar?: unknown;
}

/**
 * `npm run cli -- client:create …`: how the first admin client is bootstrapped. Same DTO, same rules as
 * POST /admin/clients; the operator may grant the built-in scopes (actor "cli").
 */
@Injectable()
export class ClientCreateOperation {
  constructor(private readonly clients: ClientsAdminService) {}

  @CliCommand('client:create')
  async createClient(options: ClientCreateOptions): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = { client_name: options.name };
    if (options.authMethod !== undefined) body.token_endpoint_auth_method = options.authMethod;
    if (
      Array.isArray(options.redirectUris)
        ? options.redirectUris.length > 0
        : options.redirectUris !== undefined
    )
      body.redirect_uris = options.redirectUris;
    if (Array.isArray(options.postLogoutRedirectUris) && options.postLogoutRedirectUris.length > 0)
      body.post_logout_redirect_uris = options.postLogoutRedirectUris;
    if (options.grantTypes !== undefined) body.grant_types = options.grantTypes;
    if (options.scope !== undefined) body.scope = options.scope;
    if (options.dpopBound !== undefined) body.dpop_bound_access_tokens = options.dpopBound;
    if (options.requirePar !== undefined) body.require_pushed_authorization_requests = options.requirePar;

    const dto = plainToInstance(CreateClientDto, body);
    const errors = await validate(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length) throw cliErrorFor(fieldsOf(errors));
    try {
      return { ...(await this.clients.create(dto, { kind: 'cli' })) };
    } catch (err) {
      const response = (err as { getResponse?: () => unknown }).getResponse?.() as
        { fields?: Record<string, string[]> } | undefined;
      if (response?.fields) throw cliErrorFor(response.fields);
      throw err;
    }
  }
}

function cliErrorFor(fields: Record<string, string[]>): CliError {
  const lines = Object.entries(fields).map(
    ([field, messages]) => `${FLAGS[field] ?? field}: ${messages.join('; ')}`,
  );
  return new CliError(`invalid client: ${lines.join(' | ')}`);
}
