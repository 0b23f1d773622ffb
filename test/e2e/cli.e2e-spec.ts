import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsersService } from '../../src/users/users.service';
import { createTestApp, TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET, TestApp } from '../helpers/test-app';

const CLI = join(process.cwd(), 'dist/src/cli.js');
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/**
 * The built CLI (`npm run cli` runs dist/src/cli.js) as a user meets it: help and --version exit 0, errors are
 * printed once and name what was wrong, --password-stdin prompts without echo on a terminal (a real pty through
 * script(1)), and parsing a command loads none of the server's modules.
 */
describe('CLI behaviour', () => {
  let t: TestApp;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (!existsSync(CLI)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
    t = await createTestApp();
    env = {
      PATH: process.env.PATH,
      DATABASE_URL: t.database.url,
      DATA_DIR: t.database.dataDir,
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      SESSION_SECRET: TEST_SESSION_SECRET,
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(() => t.close());

  // asynchronous: the server the CLI talks to runs in this process
  const cli = (args: string[], input?: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += String(d)));
      child.stderr.on('data', (d) => (stderr += String(d)));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(input);
    });

  it.each([[['--help']], [['help']], [[]], [['-h']]])(
    '%j prints the help on stdout and exits 0',
    async (args) => {
      const r = await cli(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('Commands:');
      expect(r.stdout).toContain('client:create');
      expect(r.stderr).toBe('');
    },
  );

  it('prints the help of one command and exits 0', async () => {
    const r = await cli(['help', 'user:create']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--password-stdin');
    expect(r.stderr).toBe('');
  });

  it.each([['--version'], ['-V']])('%s prints the version and exits 0', async (flag) => {
    const r = await cli([flag]);
    expect(r).toEqual({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('reports an unknown command once, exit 1', async () => {
    const r = await cli(['bogus']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`error: unknown command 'bogus'`]);
  });

  it('names the unknown flag, not a missing required one', async () => {
    const r = await cli(['client:create', '--nme', 'foo']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`unknown option '--nme'`);
    expect(r.stderr).not.toContain('--name <name>');
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error:')),
    ).toHaveLength(1);
  });

  it('still reports a missing required option (once)', async () => {
    const r = await cli(['client:create', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ error: '--name is required' });
    expect(r.stderr.trim().split('\n')).toEqual(['error: --name is required']);
  });

  it('reads --password-stdin from a pipe', async () => {
    const r = await cli(
      ['user:create', '--username', 'piped', '--password-stdin', '--json'],
      'piped password 123\n',
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ username: 'piped' });
    await expect(t.get(UsersService).authenticate('piped', 'piped password 123')).resolves.toMatchObject({
      ok: true,
    });
  });

  it('prompts for --password-stdin on a terminal without echoing it', async () => {
    const password = 'typed at a terminal 42';
    const command = `${process.execPath} ${CLI} user:create --username typist --password-stdin --json`;
    // script(1) runs the CLI on a new pseudo-terminal; what we write to its stdin is "typed" there
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const waitFor = async (text: string, from = 0) => {
      for (let i = 0; i < 300 && !output.slice(from).includes(text); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(output.slice(from)).toContain(text);
      return output.length;
    };
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    let seen = await waitFor('Password: ');
    child.stdin.write(password + '\r');
    seen = await waitFor('Repeat password: ', seen);
    child.stdin.write(password + '\r');
    await waitFor('"username":"typist"', seen);
    child.stdin.end();
    expect(await exited).toBe(0);
    expect(output).not.toContain(password); // nothing echoed
    expect(output).not.toContain('EAGAIN');
    await expect(t.get(UsersService).authenticate('typist', password)).resolves.toMatchObject({ ok: true });
  });

  it('refuses two different passwords typed at the prompt', async () => {
    const command = `${process.execPath} ${CLI} user:create --username typo --password-stdin`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    for (let i = 0; i < 300 && !output.includes('Password: '); i++)
      await new Promise((r) => setTimeout(r, 100));
    child.stdin.write('first password 1\r');
    for (let i = 0; i < 300 && !output.includes('Repeat password: '); i++)
      await new Promise((r) => setTimeout(r, 100));
    child.stdin.write('other password 2\r');
    expect(await exited).toBe(1);
    expect(output).toContain('the passwords do not match');
  });

  it('loads no database or server module to parse a command (start-up time)', () => {
    const probe = `require(${JSON.stringify(join(process.cwd(), 'dist/src/cli/commands.js'))});
      const loaded = Object.keys(require.cache);
      console.log(JSON.stringify(['/node_modules/typeorm/', '/node_modules/@electric-sql/pglite/', '/node_modules/pg/', '/dist/src/app.module.js', '/node_modules/@nestjs/platform-fastify/'].filter((m) => loaded.some((k) => k.includes(m)))));`;
    const r = spawnSync(process.execPath, ['-e', probe], { env, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});
