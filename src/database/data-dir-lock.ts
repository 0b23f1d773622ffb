import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A data directory held by another live process: start-up and the CLI stop with this message. */
export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
  ) {
    super(
      `the embedded database ${dataDir} is in use by process ${ownerPid} (a running Latchkey server or CLI): ` +
        `one process at a time may open it. Stop that process first; while a server runs, the CLI reaches it ` +
        `through $DATA_DIR/latchkey.sock`,
    );
  }
}

/** The lock file of a PGlite data directory (beside it, not inside: PGDATA belongs to PostgreSQL). */
export function dataDirLockPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.lock`;
}

/**
 * PGlite does not lock its data directory, and two processes opening it lose data (issue 13, finding 0: a
 * second server or a CLI beside a running server). So whoever opens it first owns it: the lock file is
 * created exclusively (O_EXCL) and holds the owner's pid. A lock whose process is gone (killed, crashed) is
 * stale and taken over; a lock of a live process refuses with that pid. Returns the release function (also
 * run when the process exits).
 */
export function lockDataDir(dataDir: string): () => void {
  const path = dataDirLockPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = ownerOf(path);
      if (owner !== undefined && owner !== process.pid && isAlive(owner))
        throw new DataDirInUse(dataDir, owner);
      removeIfUnchanged(path, owner); // stale (or unreadable): take it over
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.removeListener('exit', release);
      if (ownerOf(path) === process.pid) unlinkQuietly(path);
    };
    process.on('exit', release);
    return release;
  }
  throw new Error(`could not lock the embedded database ${dataDir} (${path})`);
}

function ownerOf(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Signal 0 checks that a process exists; EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfUnchanged(path: string, owner: number | undefined): void {
  if (ownerOf(path) === owner) unlinkQuietly(path);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
