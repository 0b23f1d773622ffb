import { CliError } from '../../src/operations/cli-command.decorator';
import { CliOperations } from '../../src/operations/cli-operations.service';
import { sha256Hex } from '../../src/common/crypto';
import { SessionsRepository } from '../../src/users/sessions.repository';
import { UsersService } from '../../src/users/users.service';
import { createTestApp, TestApp } from '../helpers/test-app';

/** Accounts, the user:create command and session expiry on the real database. */
describe('users and sessions on the database', () => {
  let t: TestApp;
  let users: UsersService;

  beforeAll(async () => {
    t = await createTestApp({ SESSION_IDLE_TTL: '30m', SESSION_ABSOLUTE_TTL: '12h' });
    users = t.get(UsersService);
  });
  afterAll(() => t.close());

  describe('user:create', () => {
    it('creates a user and prints its id and username', async () => {
      const result = await t
        .get(CliOperations)
        .execute('user:create', { username: 'Grace', password: 'grace-password' });
      expect(result).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'Grace' });
      const [row]: Array<{ username_normalized: string; password_hash: string }> = await t.dataSource.query(
        `SELECT username_normalized, password_hash FROM users WHERE id = $1`,
        [result.id],
      );
      expect(row.username_normalized).toBe('grace');
      expect(row.password_hash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
      expect(row.password_hash).not.toContain('grace-password');
    });

    it('refuses a duplicate username, case-insensitively and after NFKC', async () => {
      const cli = t.get(CliOperations);
      await expect(
        cli.execute('user:create', { username: 'GRACE', password: 'another-password' }),
      ).rejects.toThrow(CliError);
      await expect(
        cli.execute('user:create', { username: ' ｇｒａｃｅ ', password: 'another-password' }),
      ).rejects.toThrow(/already exists/);
    });

    it('refuses a password shorter than PASSWORD_MIN_LENGTH (12), and bad usernames', async () => {
      const cli = t.get(CliOperations);
      await expect(
        cli.execute('user:create', { username: 'henry', password: 'eleven-char' }),
      ).rejects.toThrow(/at least 12/);
      await expect(cli.execute('user:create', { username: '', password: 'long-enough' })).rejects.toThrow(
        CliError,
      );
      await expect(
        cli.execute('user:create', { username: 'x'.repeat(65), password: 'long-enough-password' }),
      ).rejects.toThrow(/at most 64/);
      const rows = await t.dataSource.query(`SELECT 1 FROM users WHERE username_normalized = 'henry'`);
      expect(rows).toHaveLength(0);
    });

    it('takes --name and --email (user:create), and refuses a malformed e-mail address', async () => {
      const cli = t.get(CliOperations);
      const result = await cli.execute('user:create', {
        username: 'Hopper',
        password: 'grace-password-1906',
        name: 'Grace Hopper',
        email: 'grace@example.com',
      });
      expect(result).toMatchObject({ username: 'Hopper', name: 'Grace Hopper', email: 'grace@example.com' });
      const [row] = await t.dataSource.query(
        `SELECT name, email, email_verified, enabled FROM users WHERE id = $1`,
        [(result as { id: string }).id],
      );
      expect(row).toEqual({
        name: 'Grace Hopper',
        email: 'grace@example.com',
        email_verified: false,
        enabled: true,
      });
      await expect(
        cli.execute('user:create', {
          username: 'nomail',
          password: 'grace-password-1906',
          email: 'not-an-address',
        }),
      ).rejects.toThrow(/email/);
    });

    it('creates exactly one of two concurrent users with the same name', async () => {
      const results = await Promise.allSettled([
        users.create('Ivy', 'ivy-password-1'),
        users.create('ivy', 'ivy-password-2'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });
  });

  describe('authenticate', () => {
    it('accepts the right password for any spelling of the username', async () => {
      const user = await users.create('Judy', 'judy-password');
      expect(await users.authenticate('JUDY', 'judy-password')).toEqual({
        ok: true,
        user: { id: user.id, username: 'Judy' },
      });
      expect(await users.authenticate('judy', 'Judy-password')).toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
        subject: user.id,
      });
    });

    it('refuses non-string and absurd inputs as ordinary failures', async () => {
      expect(await users.authenticate(['judy'], 'judy-password')).toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
      });
      expect(await users.authenticate('judy', 'x'.repeat(100_000))).toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
      });
      expect(await users.authenticate('y'.repeat(5000), 'whatever')).toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
      });
    });
  });

  describe('sessions', () => {
    it('slides the idle expiry when used, never past the absolute expiry', async () => {
      const user = await users.create('Karl', 'karl-password');
      const repo = t.get(SessionsRepository);
      const hash = sha256Hex('session-karl');
      await repo.insert(hash, user.id, 1800, 43200);
      await t.dataSource.query(
        `UPDATE sessions SET last_seen_at = now() - interval '10 minutes', idle_expires_at = now() + interval '20 minutes',
                absolute_expires_at = now() + interval '25 minutes' WHERE id_hash = $1`,
        [hash],
      );
      expect(await repo.findLive(hash, 1800, 60)).toEqual({
        user_id: user.id,
        auth_time: expect.anything(), // the login (OIDC auth_time)
        sid: expect.stringMatching(/^[0-9a-f-]{36}$/), // the OIDC session id
      });
      const [row]: Array<{ idle: number; seen: number }> = await t.dataSource.query(
        `SELECT extract(epoch FROM idle_expires_at - now())::int AS idle, extract(epoch FROM now() - last_seen_at)::int AS seen
           FROM sessions WHERE id_hash = $1`,
        [hash],
      );
      expect(row.seen).toBeLessThan(5);
      expect(row.idle).toBeGreaterThan(24 * 60); // capped at the absolute expiry (25 min), not 30 min
      expect(row.idle).toBeLessThanOrEqual(25 * 60);
    });

    it('does not write on every use (touched at most once per interval)', async () => {
      const user = await users.create('Lena', 'lena-password');
      const repo = t.get(SessionsRepository);
      const hash = sha256Hex('session-lena');
      await repo.insert(hash, user.id, 1800, 43200);
      const [before]: Array<{ seen: Date }> = await t.dataSource.query(
        `SELECT last_seen_at AS seen FROM sessions WHERE id_hash = $1`,
        [hash],
      );
      await new Promise((r) => setTimeout(r, 20));
      await repo.findLive(hash, 1800, 60);
      const [after]: Array<{ seen: Date }> = await t.dataSource.query(
        `SELECT last_seen_at AS seen FROM sessions WHERE id_hash = $1`,
        [hash],
      );
      expect(new Date(after.seen).getTime()).toBe(new Date(before.seen).getTime());
    });

    it('finds nothing for an expired session', async () => {
      const user = await users.create('Mia', 'mia-password');
      const repo = t.get(SessionsRepository);
      const hash = sha256Hex('session-mia');
      await repo.insert(hash, user.id, 1800, 43200);
      await t.dataSource.query(
        `UPDATE sessions SET idle_expires_at = now() - interval '1 second' WHERE id_hash = $1`,
        [hash],
      );
      expect(await repo.findLive(hash, 1800, 60)).toBeUndefined();
    });
  });
});
