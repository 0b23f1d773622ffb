import { Injectable } from '@nestjs/common';
import { CliCommand, CliError } from '../operations/cli-command.decorator';
import { emailProblem, nameProblem } from './dto/user-fields';
import { UserCreationError, UsersService } from './users.service';

/** `npm run cli -- user:create --username U --password P [--name N] [--email E]` (or `--password-stdin`). */
@Injectable()
export class UserCreateOperation {
  constructor(private readonly users: UsersService) {}

  @CliCommand('user:create')
  async create(options: {
    username?: unknown;
    password?: unknown;
    name?: unknown;
    email?: unknown;
  }): Promise<Record<string, unknown>> {
    const name = options.name ?? null;
    const email = options.email ?? null;
    const problem = nameProblem(name) ?? emailProblem(email);
    if (problem) throw new CliError(problem);
    try {
      const user = await this.users.create(options.username, options.password, {
        name: name as string | null,
        email: email as string | null,
      });
      return {
        id: user.id,
        username: user.username,
        ...(name !== null ? { name } : {}),
        ...(email !== null ? { email } : {}),
      };
    } catch (err) {
      if (err instanceof UserCreationError) throw new CliError(err.message);
      throw err;
    }
  }
}
