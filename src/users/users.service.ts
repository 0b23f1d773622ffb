import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { randomToken } from '../common/crypto';
import { hashPassword, verifyPassword } from './password-hasher';
import { LoginLockoutService } from './login-lockout.service';
import { PasswordCheckLimiter, type PasswordCheckCaller } from './password-check-limiter';
import { User } from './user.entity';
import {
  normalizeUsername,
  passwordProblem,
  PASSWORD_MAX_LENGTH,
  USERNAME_MAX_LENGTH,
  usernameProblem,
} from './username';
import { UsersRepository, type UserProfileRow } from './users.repository';
import { isUuid } from '../common/uuid';

export type { UserProfileRow } from './users.repository';

export type LoginFailureReason = 'invalid_credentials' | 'locked_out' | 'user_disabled';

export type AuthenticationResult =
  | { ok: true; user: User }
  /** the password was not checked: the server's bound on password checks refused it (LOGIN_*) */
  | { ok: false; reason: 'busy'; retryAfter: number }
  /** the password was not checked: the client had disconnected before its turn */
  | { ok: false; reason: 'gone' }
  /** `subject`: the user id for a known user, else the HMAC of the normalised username (never the text typed). */
  | { ok: false; reason: LoginFailureReason; subject: string | null };

export class UserCreationError extends Error {}

/**
 * End-user accounts: creation (CLI `user:create`) and password authentication. A failed login costs the
 * same whether or not the username exists: unknown usernames are checked against a dummy hash.
 */
@Injectable()
export class UsersService implements OnModuleInit {
  private dummyHash?: Promise<string>;

  constructor(
    private readonly users: UsersRepository,
    private readonly lockout: LoginLockoutService,
    private readonly limiter: PasswordCheckLimiter,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  /** Why a password cannot be set (PASSWORD_MIN_LENGTH … 1,024 characters), or null. */
  passwordProblem(password: unknown): string | null {
    return passwordProblem(password, this.oauth.passwordMinLength);
  }

  onModuleInit(): void {
    this.dummyHash = hashPassword(randomToken());
    this.dummyHash.catch(() => undefined);
  }

  /** Creates a user (CLI `user:create`, tests); the admin API goes through UsersAdminService. */
  async create(
    username: unknown,
    password: unknown,
    profile: { name?: string | null; email?: string | null } = {},
  ): Promise<User> {
    const problem = usernameProblem(username) ?? this.passwordProblem(password);
    if (problem) throw new UserCreationError(problem);
    const display = (username as string).trim();
    const created = await this.users.insertProfile({
      username: display,
      usernameNormalized: normalizeUsername(display),
      passwordHash: await hashPassword(password as string),
      name: profile.name ?? null,
      email: profile.email ?? null,
      emailVerified: false,
      enabled: true,
    });
    if (!created) throw new UserCreationError(`a user named "${display}" already exists`);
    return { id: created.id, username: created.username };
  }

  async findById(id: string): Promise<User | undefined> {
    if (!isUuid(id)) return undefined;
    return this.users.findById(id);
  }

  /** The profile of a user (admin API, OIDC claims), or undefined. */
  async findProfile(id: string): Promise<UserProfileRow | undefined> {
    if (!isUuid(id)) return undefined;
    return this.users.findProfile(id);
  }

  /** The audit subject for a login attempt with this username: user id if it exists, else the keyed hash. */
  async subjectFor(username: unknown): Promise<string | null> {
    if (typeof username !== 'string') return null;
    const normalized = normalizeUsername(username);
    const row = this.plausible(normalized) ? await this.users.findCredentials(normalized) : undefined;
    return row?.id ?? this.lockout.keyFor(normalized);
  }

  /**
   * Checks a username and password, applying the per-username lockout. Every failure looks the same to
   * the caller; only the audit trail learns the reason. The check itself goes through the process-wide bound
   * on password checks (PasswordCheckLimiter), lockout included: refused → `busy`, client gone before its turn
   * → `gone`; in both cases nothing was hashed or written.
   */
  async authenticate(
    username: unknown,
    password: unknown,
    caller: PasswordCheckCaller = { ip: 'internal', isGone: () => false },
  ): Promise<AuthenticationResult> {
    if (typeof username !== 'string' || typeof password !== 'string')
      return { ok: false, reason: 'invalid_credentials', subject: await this.subjectFor(username) };
    const normalized = normalizeUsername(username);
    const key = this.lockout.keyFor(normalized);
    const check = await this.limiter.run(
      caller,
      async (): Promise<AuthenticationResult> => {
        // looked up only once the check may run: a refused attempt costs no statement
        const row = this.plausible(normalized) ? await this.users.findCredentials(normalized) : undefined;
        const subject = row?.id ?? key;
        if (!(await this.lockout.beginAttempt(key))) return { ok: false, reason: 'locked_out', subject };
        // over-long input is refused without hashing it (a KDF over megabytes is a denial of service), but
        // still costs one dummy verification so that it looks like any other failure
        const tooLong = password.length > PASSWORD_MAX_LENGTH * 4;
        const hash = row && !tooLong ? row.password_hash : await this.dummy();
        const matches = await verifyPassword(tooLong ? '' : password, hash);
        // a disabled user cannot sign in: the same generic failure (the audit trail says why)
        if (row && !tooLong && matches && !row.enabled)
          return { ok: false, reason: 'user_disabled', subject };
        if (row && !tooLong && matches) {
          await this.lockout.reset(key);
          return { ok: true, user: { id: row.id, username: row.username } };
        }
        await this.lockout.recordFailure(key);
        return { ok: false, reason: 'invalid_credentials', subject };
      },
      (result) => !result.ok,
    );
    if (check.ran) return check.value;
    return 'gone' in check
      ? { ok: false, reason: 'gone' }
      : { ok: false, reason: 'busy', retryAfter: check.retryAfter };
  }

  private plausible(normalized: string): boolean {
    return normalized.length > 0 && normalized.length <= USERNAME_MAX_LENGTH * 2;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomToken());
    return this.dummyHash;
  }
}
