/**
 * One keeper per storage directory: two keepers appending to one log each write at their
 * own idea of its end and overwrite each other's records. The lock is a file,
 * `<dir>/keeper.lock`, created exclusively and holding the owner's pid and start time;
 * a lock whose process is gone (a crash, kill -9) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MeshpartyError } from '../../util/errors.js';
import { makeDirDurably } from './durable-fs.js';

/** This process, as written in a lock: pid and start time (a pid alone is reused, e.g. pid 1 in every container). */
const owner = () => `${process.pid} ${Math.round(performance.timeOrigin)}`;

/**
 * Lock `dir` for this keeper (creating the directory if needed); returns the release.
 * Throws `MeshpartyError('dir-locked')` when a running keeper holds it.
 *
 * @example
 * ```ts
 * const release = lockDir('./data');
 * try { ... } finally { release(); }
 * ```
 */
export function lockDir(dir: string): () => void {
  try {
    makeDirDurably(dir);
  } catch (err) {
    throw wrap(err, dir);
  }
  const path = join(dir, 'keeper.lock');
  const me = owner();
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, `${me}\n`);
      } finally {
        closeSync(fd);
      }
      return () => {
        if (readLock(path) === me) rmSync(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw wrap(err, dir);
    }
    const holder = readLock(path);
    if (holder !== undefined && holds(holder)) {
      throw new MeshpartyError('dir-locked', `${dir} is in use by another keeper (pid ${holder.split(' ')[0]}); run one keeper per directory, or delete ${path} if none is running`, {
        path,
      });
    }
    rmSync(path, { force: true }); // stale: its process is gone
  }
}

function readLock(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whether the process named in a lock still runs (this process counts only if it is the same start). */
function holds(holder: string): boolean {
  const pidText = holder.split(' ')[0];
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return holder === owner();
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but not ours to signal
  }
}

function wrap(err: unknown, dir: string): MeshpartyError {
  if (err instanceof MeshpartyError) return err;
  return new MeshpartyError('store-unreadable', `cannot lock ${dir}: ${(err as Error).message}`, { path: dir });
}
