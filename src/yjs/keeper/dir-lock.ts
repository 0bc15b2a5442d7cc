/**
 * One keeper per storage directory: two keepers appending to one log each write at their
 * own idea of its end and overwrite each other's records. The lock is a file,
 * `<dir>/keeper.lock`, created exclusively and holding the owner's pid, start time and
 * host name; its holder touches it every {@link LOCK_HEARTBEAT_MS}.
 *
 * Whether a lock's keeper still runs: on this host, its pid is asked (a crash or kill -9
 * frees the directory at once). From another host (containers sharing a volume, where
 * every keeper is pid 1, or a network file system) no pid can be asked, so a lock counts
 * as held while it was touched within {@link LOCK_STALE_MS}.
 *
 * Taking over a stale lock is atomic: the lock is renamed aside and only removed if the
 * file moved is the stale one judged; a live lock moved by mistake (another keeper took
 * over the same stale lock a moment earlier) is put back.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MeshpartyError } from '../../util/errors.js';
import { makeDirDurably } from './durable-fs.js';

/** How often the holder touches its lock. */
export const LOCK_HEARTBEAT_MS = 5_000;
/** A lock from another host not touched for this long is stale (six missed heartbeats). */
export const LOCK_STALE_MS = 30_000;

/** Options of {@link lockDir}; the defaults are for production, the rest for tests. */
export interface LockDirOptions {
  /** Told once if the lock is found taken by another keeper while held (it was judged stale elsewhere). */
  onLost?: (holder: string) => void;
  /**
   * Told when the lock file was found gone while held (deleted by hand, or the directory
   * removed or unmounted) and written again, or, with the error, when it could not be.
   */
  onMissing?: (problem: Error | undefined) => void;
  /** This machine's name as written in the lock (default `os.hostname()`). */
  host?: string;
  heartbeatMs?: number;
  staleMs?: number;
  /** Test seam: runs after a lock was judged stale, before it is taken over. */
  beforeTakeover?: () => void;
}

/** A lock as read: its text and when it was last touched. */
interface SeenLock {
  text: string;
  touchedAt: number;
}

/**
 * Lock `dir` for this keeper (creating the directory if needed); returns the release.
 * Throws `MeshpartyError('dir-locked')` when a running keeper holds it.
 *
 * @example
 * ```ts
 * const release = lockDir('./data', { onLost: (by) => console.error(`lock taken by ${by}`) });
 * try { ... } finally { release(); }
 * ```
 */
export function lockDir(dir: string, options: LockDirOptions = {}): () => void {
  try {
    makeDirDurably(dir);
  } catch (err) {
    throw wrap(err, dir);
  }
  const host = options.host ?? hostname();
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const path = join(dir, 'keeper.lock');
  // A pid alone is reused (pid 1 in every container); with its start time and host it is not.
  const me = `${process.pid} ${Math.round(performance.timeOrigin)} ${host}`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, me, dir)) return holdLock(path, me, dir, options);
    const seen = readLock(path);
    if (!seen) continue; // released meanwhile
    if (isHeld(seen, me, host, staleMs)) throw dirLocked(dir, path, seen, host);
    options.beforeTakeover?.();
    takeOverStale(path, seen.text);
  }
  // Still contended after three rounds: some other keeper is taking the directory right now.
  const seen = readLock(path);
  throw dirLocked(dir, path, seen ?? { text: 'unknown', touchedAt: Date.now() }, host);
}

/** Create the lock file holding `me`; false if one exists. */
function createExclusive(path: string, me: string, dir: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw wrap(err, dir);
  }
  try {
    writeSync(fd, `${me}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Touch the lock every heartbeat while held; the release removes it if it is still ours.
 * A lock found gone is written again: the dir-locked message tells an operator to delete
 * it when no keeper runs, and one deleted by mistake let a second keeper start and write
 * the same logs. Gone twice in a row, since a keeper checking it moves it aside for a moment.
 */
function holdLock(path: string, me: string, dir: string, options: LockDirOptions): () => void {
  let lost = false;
  let missing = 0;
  let failing = false;
  const heartbeat = setInterval(() => {
    const seen = readLock(path);
    if (!seen && !lost && ++missing >= 2) {
      missing = 0;
      try {
        if (createExclusive(path, me, dir)) {
          failing = false;
          options.onMissing?.(undefined);
        }
      } catch (err) {
        if (!failing) options.onMissing?.(err as Error); // once until it can be written again
        failing = true;
      }
      return;
    }
    if (seen) missing = 0;
    if (seen?.text === me) {
      const now = new Date();
      try {
        utimesSync(path, now, now);
      } catch {
        // Moved aside for a moment by a keeper checking it: the next beat touches it.
      }
    } else if (seen && !lost) {
      lost = true;
      options.onLost?.(seen.text);
    }
  }, options.heartbeatMs ?? LOCK_HEARTBEAT_MS);
  heartbeat.unref?.(); // the lock never keeps a process alive
  return () => {
    clearInterval(heartbeat);
    if (readLock(path)?.text === me) rmSync(path, { force: true });
  };
}

/**
 * Remove the stale lock `staleText`, atomically: rename it aside and look at what moved.
 * Another keeper may have taken it over between our reading and our rename; its live lock
 * is then put back (unless yet another lock was created meanwhile) for the caller's next
 * round to find.
 */
function takeOverStale(path: string, staleText: string): void {
  const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // gone already: the next round creates it or finds the new holder
  }
  if (readLock(aside)?.text !== staleText) {
    try {
      linkSync(aside, path);
    } catch {
      // A third lock appeared meanwhile; it holds the directory now.
    }
  }
  rmSync(aside, { force: true });
}

function readLock(path: string): SeenLock | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return { text, touchedAt: statSync(path).mtimeMs };
  } catch {
    return undefined;
  }
}

/** Whether the keeper named in a lock still runs; see the module comment. */
function isHeld(seen: SeenLock, me: string, host: string, staleMs: number): boolean {
  const [pidText, , lockHost] = seen.text.split(' ');
  // A lock of an older version names no host: it was written on this one.
  if (lockHost !== undefined && lockHost !== host) return Date.now() - seen.touchedAt < staleMs;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return seen.text === me;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but not ours to signal
  }
}

function dirLocked(dir: string, path: string, seen: SeenLock, host: string): MeshpartyError {
  const [pid, , lockHost] = seen.text.split(' ');
  const where = lockHost && lockHost !== host ? `on host ${lockHost}, pid ${pid}, last seen ${Math.round((Date.now() - seen.touchedAt) / 1000)} s ago` : `pid ${pid}`;
  return new MeshpartyError(
    'dir-locked',
    `${dir} is in use by another keeper (${where}); run one keeper per directory, or delete ${path} if none is running`,
    { path, holder: seen.text },
  );
}

function wrap(err: unknown, dir: string): MeshpartyError {
  if (err instanceof MeshpartyError) return err;
  return new MeshpartyError('store-unreadable', `cannot lock ${dir}: ${(err as Error).message}`, { path: dir });
}
