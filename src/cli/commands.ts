import { Command, CommandRunner, Option } from 'nest-commander';
import { parseDuration } from '../config/duration';
import { loadEnvironment } from '../config/environment';
import { dispatch } from './cli-dispatcher';
import { readPassword } from './password-prompt';

interface JsonFlag {
  json?: boolean;
}

/** Prints one result: with --json exactly one JSON object on stdout; otherwise key: value lines. */
function print(result: Record<string, unknown>, json?: boolean) {
  if (json) {
    process.stdout.write(JSON.stringify(result) + '\n');
    return;
  }
  for (const [key, value] of Object.entries(result)) {
    process.stdout.write(
      `${key}: ${Array.isArray(value) ? value.join(', ') || '(none)' : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}\n`,
    );
  }
}

/** A usage error: with --json also one JSON object on stdout; exit code 1. */
function fail(message: string, json?: boolean) {
  if (json) process.stdout.write(JSON.stringify({ error: message }) + '\n');
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}

abstract class DispatchingCommand extends CommandRunner {
  protected abstract readonly commandName: string;

  protected async dispatch(options: Record<string, unknown> & JsonFlag) {
    const { json, ...rest } = options;
    try {
      print(await dispatch(loadEnvironment(), this.commandName, rest), json);
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err), json);
    }
  }

  @Option({ flags: '--json', description: 'print exactly one JSON object on stdout' })
  parseJson() {
    return true;
  }
}

@Command({ name: 'migrate', description: 'apply pending database migrations' })
export class MigrateCommand extends DispatchingCommand {
  protected readonly commandName = 'migrate';
  async run(_args: string[], options: JsonFlag) {
    await this.dispatch({ ...options });
  }
}

@Command({ name: 'keys:rotate', description: 'add a new signing key; it becomes current once published' })
export class KeysRotateCommand extends DispatchingCommand {
  protected readonly commandName = 'keys:rotate';
  async run(_args: string[], options: JsonFlag) {
    await this.dispatch({ ...options });
  }
}

interface ClientCreateOptions extends JsonFlag {
  name?: string;
  authMethod?: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  grantTypes?: string[];
  scope?: string;
  dpopBound?: boolean;
  requirePar?: boolean;
}

@Command({
  name: 'client:create',
  description: 'register a client; prints client_id (and client_secret once)',
})
export class ClientCreateCommand extends DispatchingCommand {
  protected readonly commandName = 'client:create';
  async run(_args: string[], options: ClientCreateOptions) {
    if (!options.name) return fail('--name is required', options.json);
    await this.dispatch({
      json: options.json,
      name: options.name,
      authMethod: options.authMethod,
      redirectUris: options.redirectUri ?? [],
      postLogoutRedirectUris: options.postLogoutRedirectUri ?? [],
      grantTypes: options.grantTypes,
      scope: options.scope,
      dpopBound: options.dpopBound,
      requirePar: options.requirePar,
    });
  }

  @Option({
    flags: '--dpop-bound',
    description: 'dpop_bound_access_tokens: token requests need a DPoP proof',
  })
  parseDpopBound() {
    return true;
  }

  @Option({
    flags: '--require-par',
    description: 'require_pushed_authorization_requests: authorization requests must be pushed (PAR)',
  })
  parseRequirePar() {
    return true;
  }

  // not `required: true`: commander checks required options before unknown ones, so `--nme x` would be
  // reported as a missing --name instead of the unknown --nme; run() checks it
  @Option({ flags: '--name <name>', description: 'client_name (required)' })
  parseName(value: string) {
    return value;
  }

  @Option({ flags: '--auth-method <method>', description: 'none | client_secret_basic | client_secret_post' })
  parseAuthMethod(value: string) {
    return value;
  }

  @Option({ flags: '--redirect-uri <uri>', description: 'a redirect URI (repeat for several)' })
  parseRedirectUri(value: string, previous: string[] = []) {
    return [...previous, value];
  }

  @Option({
    flags: '--post-logout-redirect-uri <uri>',
    description: 'where /oauth/logout may return the user (repeat for several)',
  })
  parsePostLogoutRedirectUri(value: string, previous: string[] = []) {
    return [...previous, value];
  }

  @Option({
    flags: '--grant-types <list>',
    description: 'comma-separated, e.g. authorization_code,refresh_token',
  })
  parseGrantTypes(value: string) {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  @Option({ flags: '--scope <scopes>', description: 'space-separated scopes' })
  parseScope(value: string) {
    return value;
  }
}

interface UserCreateOptions extends JsonFlag {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  name?: string;
  email?: string;
}

@Command({ name: 'user:create', description: 'create an end user' })
export class UserCreateCommand extends DispatchingCommand {
  protected readonly commandName = 'user:create';
  async run(_args: string[], options: UserCreateOptions) {
    let password = options.password;
    if (options.passwordStdin) {
      try {
        password = await readPassword();
      } catch (err) {
        return fail((err as Error).message, options.json);
      }
    }
    if (!options.username || !password)
      return fail('--username and --password (or --password-stdin) are required', options.json);
    await this.dispatch({
      json: options.json,
      username: options.username,
      password,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.email !== undefined ? { email: options.email } : {}),
    });
  }

  @Option({
    flags: '--username <username>',
    description: 'the login name (required; unique, case-insensitive)',
  })
  parseUsername(value: string) {
    return value;
  }

  @Option({ flags: '--password <password>', description: 'the password (prefer --password-stdin)' })
  parsePassword(value: string) {
    return value;
  }

  @Option({
    flags: '--password-stdin',
    description: 'read the password from standard input (a terminal prompts without echo)',
  })
  parsePasswordStdin() {
    return true;
  }

  @Option({ flags: '--name <name>', description: 'the display name (OIDC `name` claim)' })
  parseName(value: string) {
    return value;
  }

  @Option({ flags: '--email <email>', description: 'the e-mail address (OIDC `email` claim, unverified)' })
  parseEmail(value: string) {
    return value;
  }
}

interface AuditPurgeOptions extends JsonFlag {
  olderThan?: string;
}

@Command({
  name: 'audit:purge',
  description: 'drop audit partitions older than the cutoff, delete the rest in batches',
})
export class AuditPurgeCommand extends DispatchingCommand {
  protected readonly commandName = 'audit:purge';
  async run(_args: string[], options: AuditPurgeOptions) {
    const seconds = parseDuration(options.olderThan ?? '');
    if (seconds === undefined) return fail('--older-than needs a duration like 90d', options.json);
    await this.dispatch({ json: options.json, olderThanSeconds: seconds });
  }

  @Option({ flags: '--older-than <duration>', description: 'required, e.g. 90d' })
  parseOlderThan(value: string) {
    return value;
  }
}

interface UserPermitOptions extends JsonFlag {
  username?: string;
  permission?: string;
  revoke?: boolean;
}

@Command({
  name: 'user:permit',
  description: 'give a user a permission (audit:read: the audit console in the browser), or --revoke it',
})
export class UserPermitCommand extends DispatchingCommand {
  protected readonly commandName = 'user:permit';
  async run(_args: string[], options: UserPermitOptions) {
    if (!options.username || !options.permission)
      return fail('--username and --permission are required', options.json);
    await this.dispatch({ ...options, revoke: options.revoke === true });
  }

  @Option({ flags: '--username <username>', description: 'the user (required)' })
  parseUsername(value: string) {
    return value;
  }

  @Option({ flags: '--permission <permission>', description: 'required: audit:read' })
  parsePermission(value: string) {
    return value;
  }

  @Option({ flags: '--revoke', description: 'take the permission away' })
  parseRevoke() {
    return true;
  }
}

export const COMMANDS = [
  MigrateCommand,
  KeysRotateCommand,
  ClientCreateCommand,
  UserCreateCommand,
  AuditPurgeCommand,
  UserPermitCommand,
];
