import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, TEST_KEY_ENCRYPTION_KEY, TEST_SESSION_SECRET } from './test-app';

export interface AppProcess {
  url: string;
  pid: number;
  /** everything the process wrote to stdout so far (its JSON log lines) */
  stdout(): string;
  close(): Promise<void>;
}

/**
 * Starts the built server (`node dist/src/main.js`, as `npm start` does) as a separate OS process on a free
 * port, with the test secrets and the given environment; resolves when /health/ready answers 200 (within
 * `readyWithinMs`, 60 s by default: a fresh embedded database on a busy 2-core machine took 27 s), rejects with
 * the process's stderr when it exits first.
 */
export async function startAppProcess(
  env: Record<string, string>,
  options: { readyWithinMs?: number; readyTimeoutMs?: number } = {},
): Promise<AppProcess> {
  const main = join(process.cwd(), 'dist/src/main.js');
  if (!existsSync(main)) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [main], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      ISSUER: url,
      KEY_ENCRYPTION_KEY: TEST_KEY_ENCRYPTION_KEY,
      SESSION_SECRET: TEST_SESSION_SECRET,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  child.stdout!.on('data', (d) => (stdout += String(d)));
  const deadline = Date.now() + (options.readyWithinMs ?? options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`app process exited (${child.exitCode}): ${stderr}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      return {
        url,
        pid: child.pid!,
        stdout: () => stdout,
        close: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve(); // already gone
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`app process not ready: ${stderr}`);
}
