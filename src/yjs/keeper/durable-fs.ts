/**
 * File-system steps that survive a crash or a power cut (Node only): whole writes, files
 * replaced atomically, and directories fsynced after a name is added to them (a new
 * file's data can be on disk while its name is not, and then the file is gone).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** Write all of `bytes` at `position`: write(2) may write less than asked (a full disk, a file size limit). */
export function writeFully(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
    done += n;
  }
}

/** fsync a directory, so the names added to it are durable. */
export function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return; // some platforms cannot open a directory; their renames and creates are still atomic
  }
  try {
    fsyncSync(fd);
  } catch {
    // some filesystems cannot fsync a directory
  } finally {
    closeSync(fd);
  }
}

/**
 * Replace `path` by `bytes`: written to `<path>.tmp`, fsynced, renamed over `path`, and
 * the directory fsynced, so a crash leaves the old file or the new one, never a mix.
 */
export function replaceFileDurably(path: string, bytes: Uint8Array): void {
  closeSync(replaceFileOpen(path, bytes));
}

/**
 * {@link replaceFileDurably}, returning the new file still open for reading and writing.
 * A caller that goes on writing to the file must not open it again after the rename: that
 * open can fail (too many open files), and the caller would be left writing to the old
 * file, which no name reaches any more.
 */
export function replaceFileOpen(path: string, bytes: Uint8Array): number {
  const tmp = `${path}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w+');
    writeFully(fd, bytes, 0);
    fsyncSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  syncDir(dirname(path));
  return fd;
}

/** Create `dir` (and missing parents) and fsync each new directory's parent. */
export function makeDirDurably(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  // One level at a time, not mkdirSync's recursive mode: Node's (20) retries a mkdir that
  // fails with ENOENT under a parent that exists (any path in /proc) forever, a busy loop
  // in native code that no SIGTERM can stop.
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // made meanwhile by someone else: fine
    }
    syncDir(dirname(d));
  }
}
