import type { INestApplicationContext, LoggerService } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import type { LatchkeyEnvironment } from '../config/environment';
import { CliError } from '../operations/cli-command.decorator';
import { cliSocketPath } from '../operations/cli-socket-path';

/** Nest's logs go to stderr in the CLI: stdout is for the command's output only. */
export class StderrLogger implements LoggerService {
  constructor(private readonly chatty = false) {}
  log(message: unknown, context?: string) {
    if (this.chatty) this.write('log', message, context);
  }
  warn(message: unknown, context?: string) {
    this.write('warn', message, context);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest[rest.length - 1] as string);
  }
  private write(level: string, message: unknown, context?: string) {
    process.stderr.write(`[latchkey ${level}]${context ? ` [${context}]` : ''} ${String(message)}\n`);
  }
}

/**
 * Runs a command where the data lives. PostgreSQL: in this process. Embedded database: through the
 * running server's socket; if no server answers (no socket, or a stale one), in this process on the files,
 * which the data directory lock allows only when no live process holds them.
 * `pglite://memory` exists only inside a running server.
 */
export async function dispatch(
  env: LatchkeyEnvironment,
  command: string,
  options: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  if (env.database.kind === 'pglite') {
    const socket = cliSocketPath(env.dataDir);
    const viaServer = await sendToServer(socket, command, options);
    if (viaServer !== undefined) return viaServer;
    if (env.database.dataDir === null)
      throw new CliError(
        `DATABASE_URL=pglite://memory lives inside the running server, and no server answers at ${socket}`,
      );
    // no server answers: open the files here — unless a live process owns them (the data directory lock
    // then refuses, naming its pid); a stale socket is left for the next server to replace
  }
  return runLocally(command, options);
}

/**
 * Boots the application's modules in this process. Loaded lazily: a command answered by the running server
 * (or `--help`) never loads TypeORM, the database drivers or the feature modules (docs/cli.md, start-up time).
 */
async function runLocally(command: string, options: Record<string, unknown>) {
  const [{ NestFactory }, { CliWorkModule }, { CliOperations }] = await Promise.all([
    import('@nestjs/core'),
    import('./cli-work.module.js'),
    import('../operations/cli-operations.service.js'),
  ]);
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(CliWorkModule, {
      logger: new StderrLogger(),
      abortOnError: false,
    });
    return await app.get(CliOperations).execute(command, options);
  } finally {
    await app?.close();
  }
}

function sendToServer(path: string, command: string, options: Record<string, unknown>) {
  return new Promise<Record<string, unknown> | undefined>((resolve, reject) => {
    if (!existsSync(path)) return resolve(undefined);
    const socket = connect(path);
    let data = '';
    let connected = false;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(JSON.stringify({ command, options }) + '\n');
    });
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected)
        resolve(undefined); // ECONNREFUSED / ENOENT: no server behind the socket
      else reject(err);
    });
    socket.on('end', () => {
      try {
        const reply = JSON.parse(data) as { ok: boolean; result?: Record<string, unknown>; error?: string };
        if (reply.ok) resolve(reply.result ?? {});
        else reject(new CliError(reply.error ?? 'the server refused the command'));
      } catch {
        reject(new CliError('the server closed the CLI socket without an answer'));
      }
    });
    socket.setTimeout(60_000, () => {
      socket.destroy();
      reject(new CliError('the server did not answer the CLI within 60 s'));
    });
  });
}
