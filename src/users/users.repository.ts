import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { UserEntity } from './user.entity';

export interface UserCredentialsRow {
  id: string;
  username: string;
  password_hash: string;
}

@Injectable()
export class UsersRepository {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  /** Login path: one indexed lookup, no ORM hydration. */
  async findCredentials(usernameNormalized: string): Promise<UserCredentialsRow | undefined> {
    const rows: UserCredentialsRow[] = await this.users.query(
      `SELECT id, username, password_hash FROM users WHERE username_normalized = $1`,
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
}
