import { randomUUID } from 'node:crypto';
import { UsersService } from '../../src/users/users.service';
import type { TestApp } from '../helpers/test-app';

export interface TestUser {
  id: string;
  username: string;
  password: string;
}

/** Creates an end user (through UsersService, as `user:create` does). Defaults: a unique name, a fixed password. */
export async function createUser(
  t: TestApp,
  options: { username?: string; password?: string } = {},
): Promise<TestUser> {
  const username = options.username ?? `user-${randomUUID().slice(0, 8)}`;
  const password = options.password ?? 'correct horse battery staple';
  const user = await t.get(UsersService).create(username, password);
  return { id: user.id, username: user.username, password };
}
