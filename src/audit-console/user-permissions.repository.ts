import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { sql } from '../database/sql';

/** user_permissions: the only writer. Reads `users` only to turn a username into its id. */
@Injectable()
export class UserPermissionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The username of this user if it holds the permission (checked on every console request), else undefined. */
  async holder(userId: string, permission: string): Promise<string | undefined> {
    const [row] = await sql<{ username: string }>(
      this.db,
      `SELECT u.username FROM users u JOIN user_permissions p ON p.user_id = u.id
        WHERE u.id = $1 AND p.permission = $2`,
      [userId, permission],
    );
    return row?.username;
  }

  /** Grants to the user with this (normalised) username; undefined when no such user. */
  async grant(username: string, permission: string): Promise<{ user_id: string } | undefined> {
    const [user] = await sql<{ id: string }>(this.db, `SELECT id FROM users WHERE username_normalized = $1`, [
      username,
    ]);
    if (!user) return undefined;
    await sql(
      this.db,
      `INSERT INTO user_permissions (user_id, permission) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
      [user.id, permission],
    );
    return { user_id: user.id };
  }

  async revoke(username: string, permission: string): Promise<{ user_id: string } | undefined> {
    const [user] = await sql<{ id: string }>(this.db, `SELECT id FROM users WHERE username_normalized = $1`, [
      username,
    ]);
    if (!user) return undefined;
    await sql(this.db, `DELETE FROM user_permissions WHERE user_id = $1 AND permission = $2`, [
      user.id,
      permission,
    ]);
    return { user_id: user.id };
  }
}
