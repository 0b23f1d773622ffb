import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { sql } from '../database/sql';
import { UserEntity } from './user.entity';

export interface UserCredentialsRow {
  id: string;
  username: string;
  password_hash: string;
  enabled: boolean;
}

/** A user as the admin API and the OIDC claims see it (never the password hash). */
export interface UserProfileRow {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  email_verified: boolean;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export const PROFILE_COLUMNS = 'id, username, name, email, email_verified, enabled, created_at, updated_at';

@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  /** Login path: one indexed lookup, no ORM hydration. */
  async findCredentials(usernameNormalized: string): Promise<UserCredentialsRow | undefined> {
    const rows: UserCredentialsRow[] = await this.users.query(
      `SELECT id, username, password_hash, enabled FROM users WHERE username_normalized = $1`,
      [usernameNormalized],
    );
    return rows[0];
  }

  async findById(id: string): Promise<{ id: string; username: string } | undefined> {
    const rows: Array<{ id: string; username: string }> = await this.users.query(
      `SELECT id, username FROM users WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  async findProfile(id: string): Promise<UserProfileRow | undefined> {
    const rows: UserProfileRow[] = await this.users.query(
      `SELECT ${PROFILE_COLUMNS} FROM users WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  /** Inserts a user; returns undefined when the (normalised) username is taken. */
  async insert(user: {
    username: string;
    usernameNormalized: string;
    passwordHash: string;
  }): Promise<{ id: string; username: string } | undefined> {
    const rows: Array<{ id: string; username: string }> = await this.users.query(
      `INSERT INTO users (username, username_normalized, password_hash) VALUES ($1, $2, $3)
       ON CONFLICT (username_normalized) DO NOTHING RETURNING id, username`,
      [user.username, user.usernameNormalized, user.passwordHash],
    );
    return rows[0];
  }

  /** A user created through the admin API; undefined when the (normalised) username is taken. */
  async insertProfile(user: {
    username: string;
    usernameNormalized: string;
    passwordHash: string;
    name: string | null;
    email: string | null;
    emailVerified: boolean;
    enabled: boolean;
  }): Promise<UserProfileRow | undefined> {
    const rows = await sql<UserProfileRow>(
      this.users.manager,
      `INSERT INTO users (username, username_normalized, password_hash, name, email, email_verified, enabled)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (username_normalized) DO NOTHING RETURNING ${PROFILE_COLUMNS}`,
      [
        user.username,
        user.usernameNormalized,
        user.passwordHash,
        user.name,
        user.email,
        user.emailVerified,
        user.enabled,
      ],
    );
    return rows[0];
  }

  /**
   * One page ordered by (created_at, id) after the keyset position (created_at as microsecond text), or the
   * user with this normalised username. Each row carries its own position as `cursor_t`.
   */
  page(
    limit: number,
    after: { createdAt: string; id: string } | null,
    usernameNormalized: string | null,
  ): Promise<Array<UserProfileRow & { cursor_t: string }>> {
    return sql<UserProfileRow & { cursor_t: string }>(
      this.users.manager,
      `SELECT ${PROFILE_COLUMNS},
              to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_t
         FROM users
        WHERE ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
          AND ($4::text IS NULL OR username_normalized = $4::text)
        ORDER BY created_at, id
        LIMIT $1`,
      [limit, after?.createdAt ?? null, after?.id ?? null, usernameNormalized],
    );
  }

  /**
   * Applies the changes given (row-locked, in the caller's transaction); returns the updated profile and
   * whether the user was enabled before, or undefined when there is no such user.
   */
  async update(
    id: string,
    changes: {
      passwordHash?: string;
      name?: string | null;
      email?: string | null;
      emailVerified?: boolean;
      enabled?: boolean;
    },
    manager: EntityManager,
  ): Promise<(UserProfileRow & { was_enabled: boolean }) | undefined> {
    const columns: Array<[string, unknown]> = [];
    if (changes.passwordHash !== undefined) columns.push(['password_hash', changes.passwordHash]);
    if (changes.name !== undefined) columns.push(['name', changes.name]);
    if (changes.email !== undefined) columns.push(['email', changes.email]);
    if (changes.emailVerified !== undefined) columns.push(['email_verified', changes.emailVerified]);
    if (changes.enabled !== undefined) columns.push(['enabled', changes.enabled]);
    const set = [...columns.map(([c], i) => `${c} = $${i + 2}`), 'updated_at = now()'].join(', ');
    const rows = await sql<UserProfileRow & { was_enabled: boolean }>(
      manager,
      `WITH old AS (SELECT id, enabled FROM users WHERE id = $1 FOR UPDATE)
       UPDATE users u SET ${set} FROM old WHERE u.id = old.id
       RETURNING ${PROFILE_COLUMNS.split(', ')
         .map((c) => `u.${c}`)
         .join(', ')}, old.enabled AS was_enabled`,
      [id, ...columns.map(([, v]) => v)],
    );
    return rows[0];
  }

  /** Deletes the user (its sessions, consents, grants and codes go with it: ON DELETE CASCADE). */
  async delete(id: string, manager: EntityManager): Promise<boolean> {
    const rows = await sql(manager, `DELETE FROM users WHERE id = $1 RETURNING id`, [id]);
    return rows.length > 0;
  }
}
