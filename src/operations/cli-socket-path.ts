import { join } from 'node:path';

/** Where a server on the embedded database listens for CLI commands (a file of its own: the CLI loads no server code). */
export function cliSocketPath(dataDir: string): string {
  return join(dataDir, 'latchkey.sock');
}
