import { Injectable } from '@nestjs/common';
import { CliCommand, CliError } from '../cli/cli-command.decorator';
import { UserCreationError, UsersService } from './users.service';

/** `npm run cli -- user:create --username U --password P` (or `--password-stdin`). */
@Injectable()
export class UserCreateOperation {
  constructor(private readonly users: UsersService) {}

  @CliCommand('user:create')
  async create(options: { username?: unknown; password?: unknown }): Promise<Record<string, unknown>> {
    try {
      const user = await this.users.create(options.username, options.password);
      return { id: user.id, username: user.username };
    } catch (err) {
      if (err instanceof UserCreationError) throw new CliError(err.message);
      throw err;
    }
  }
}
