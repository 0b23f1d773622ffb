import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An end user who signs in at /login. The password is stored only as a scrypt hash (password-hasher.ts). */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** As chosen (trimmed), for display. */
  @Column({ type: 'varchar', length: 100 })
  username: string;

  /** NFKC, trimmed, lower-case: the unique key (usernames are case-insensitive). */
  @Column({ name: 'username_normalized', type: 'varchar', length: 100, unique: true })
  usernameNormalized: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash: string;

  /** OIDC `name` (profile scope) */
  @Column({ type: 'varchar', length: 200, nullable: true })
  name: string | null;

  /** OIDC `email` (email scope) */
  @Column({ type: 'varchar', length: 320, nullable: true })
  email: string | null;

  @Column({ name: 'email_verified', type: 'boolean', default: false })
  emailVerified: boolean;

  /** a disabled user cannot sign in, and its tokens are refused */
  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** What other modules see of a user. */
export interface User {
  id: string;
  username: string;
}
