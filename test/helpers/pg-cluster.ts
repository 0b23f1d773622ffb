import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A throwaway PostgreSQL cluster of the test's own (scripts/pg-cluster.sh), for tests that stop and start
 * the server under the application's feet.
 */
export class OwnPostgresCluster {
  url = '';
  private dir = '';
  private port = '';

  private bash(script: string): string {
    return execFileSync(
      'bash',
      ['-c', `source "${join(process.cwd(), 'scripts/pg-cluster.sh')}"; ${script}`],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  }

  start(): void {
    const out = this.bash(
      'pg_cluster_start && echo "$PG_CLUSTER_URL|$PG_CLUSTER_DIR|$PG_CLUSTER_PORT"',
    ).trim();
    [this.url, this.dir, this.port] = out.split('\n').pop()!.split('|');
  }

  /** Stops the server (fast shutdown: open connections are terminated), keeping its data. */
  stopServer(): void {
    this.bash(`_pg_as "$PGBIN/pg_ctl -D ${this.dir}/data -m fast -w stop" >/dev/null`);
  }

  startServer(): void {
    this.bash(
      `_pg_as "$PGBIN/pg_ctl -D ${this.dir}/data -l ${this.dir}/server.log -w -o \\"-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir}\\" start" >/dev/null`,
    );
  }

  destroy(): void {
    if (this.dir) this.bash(`PG_CLUSTER_DIR="${this.dir}" pg_cluster_stop`);
  }
}
