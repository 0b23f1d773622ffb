import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { serverConfig, type ServerConfig } from '../config/config.namespaces';
import { isEmbedded } from '../database/data-source';
import { CliError } from './cli-command.decorator';
import { CliOperations } from './cli-operations.service';
import { cliSocketPath } from './cli-socket-path';

export { cliSocketPath };

/**
 * On the embedded database the server owns the data directory (PGlite does not lock it, and a second
 * process opening it could corrupt it). The CLI therefore sends its commands to the running server over
 * a Unix socket at $DATA_DIR/latchkey.sock (mode 0600): one JSON line in, one JSON line out.
 */
@Injectable()
export class CliSocketServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CliSocket');
  private server?: Server;
  private path?: string;

  constructor(
    private readonly operations: CliOperations,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(serverConfig.KEY) private readonly config: ServerConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!isEmbedded(this.dataSource) || process.env.LATCHKEY_NO_CLI_SOCKET === '1') return;
    const path = cliSocketPath(this.config.dataDir);
    mkdirSync(this.config.dataDir, { recursive: true });
    if (existsSync(path)) unlinkSync(path); // stale socket of a previous run: this process owns the directory now
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
    this.server = server;
    this.path = path;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.server) return;
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    if (this.path && existsSync(this.path)) unlinkSync(this.path);
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
