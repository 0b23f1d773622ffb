import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { connect, createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import {
  databaseConfig,
  serverConfig,
  type DatabaseConfig,
  type ServerConfig,
} from '../config/config.namespaces';
import { isEmbedded } from '../database/data-source';
import { CliError } from './cli-command.decorator';
import { CliOperations } from './cli-operations.service';
import { cliSocketPath } from './cli-socket-path';

export { cliSocketPath };

/**
 * On the embedded database the server owns the data directory (PGlite does not lock it, and a second
 * process opening it could corrupt it). The CLI therefore sends its commands to the running server over
 * a Unix socket at $DATA_DIR/latchkey.sock (mode 0600 from its creation): one JSON line in, one JSON line out.
 * The directory itself is locked (data-dir-lock.ts); a socket that still answers is never removed, a stale one
 * (its process gone) is.
 */
@Injectable()
export class CliSocketServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CliSocket');
  private server?: Server;
  private path?: string;
  private inode?: number;

  constructor(
    private readonly operations: CliOperations,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(serverConfig.KEY) private readonly config: ServerConfig,
    @Inject(databaseConfig.KEY) private readonly database: DatabaseConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!isEmbedded(this.dataSource) || process.env.LATCHKEY_NO_CLI_SOCKET === '1') return;
    const path = cliSocketPath(this.config.dataDir);
    mkdirSync(this.config.dataDir, { recursive: true });
    if (existsSync(path)) {
      // a socket that answers belongs to a live server: never take it over (its CLI users would reach us)
      if (await socketAnswers(path)) {
        if (this.database.target.kind === 'pglite' && this.database.target.dataDir === null) {
          this.logger.warn(`another server answers at ${path}: this in-memory server opens no CLI socket`);
          return;
        }
        throw new Error(`another Latchkey server answers at ${path}: its data directory is in use`);
      }
      unlinkSync(path); // stale: its process is gone
    }
    // Created in a private directory (0700), made 0600, then moved into place: no moment at the umask's mode.
    const staging = mkdtempSync(join(this.config.dataDir, '.latchkey-sock-'));
    const staged = join(staging, 's');
    const server = createServer((socket) => this.serve(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(staged, () => resolve());
      });
      chmodSync(staged, 0o600);
      renameSync(staged, path);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    this.server = server;
    this.path = path;
    this.inode = statSync(path).ino;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    // only our own socket (net.Server#close unlinks the path it listened on, which was the staging one)
    try {
      if (this.path && statSync(this.path).ino === this.inode) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private serve(socket: Socket) {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', async (chunk: string) => {
      buffer += chunk;
      if (buffer.length > 1_000_000) return socket.destroy();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      buffer = '';
      let reply: Record<string, unknown>;
      try {
        const { command, options } = JSON.parse(line) as {
          command: string;
          options: Record<string, unknown>;
        };
        reply = { ok: true, result: await this.operations.execute(command, options ?? {}) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!(err instanceof CliError)) this.logger.error(`CLI command failed: ${message}`);
        reply = { ok: false, error: message };
      }
      socket.end(JSON.stringify(reply) + '\n');
    });
  }
}

/** Whether a server accepts connections on the Unix socket at `path` (within 1 s). */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}
