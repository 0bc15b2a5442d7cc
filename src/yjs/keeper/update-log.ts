/**
 * An append-only log of Yjs updates for one document (Node only); the file format is in
 * `log-format.ts` and PROTOCOL.md.
 *
 * Appends are batched (one write per event-loop turn) and fsynced per batch by default.
 * A batch that fails to write (a full disk) is cut off the file, kept in memory and
 * written again later, so the file never holds half a batch with more after it.
 *
 * Loading never destroys bytes: if any part of the file is unreadable (a write torn by a
 * crash, a flipped bit), the original is first copied to `<log>.damaged-<ms>` (once: an
 * existing copy with the same bytes is reused), then the log is rewritten with every
 * intact record. When the log outgrows a threshold it is
 * compacted into one record holding the merged document, written to a temp file,
 * fsynced and renamed over the log, so a crash leaves either the old or the new log.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, fstatSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { MeshpartyError } from '../../util/errors.js';
import { realClock, type Clock } from '../../util/clock.js';
import { replaceFileDurably, replaceFileOpen, writeFully } from './durable-fs.js';
import { LOG_MAGIC, encodeLogFile, encodeRecords, readLogFile } from './log-format.js';
import { backoffDelay } from '../../signaling-client/backoff.js';

/** When a failed write is tried again, if nothing else writes first. */
const RETRY_MS = 1000;
/** After a failed compaction the next waits this long, doubling with each failure in a row... */
export const COMPACT_RETRY_MS = 30_000;
/** ...up to this. */
export const COMPACT_RETRY_MAX_MS = 10 * 60_000;

/**
 * When to fsync appended records.
 *
 * @example
 * ```ts
 * const fsync: FsyncPolicy = process.env.NODE_ENV === 'test' ? 'never' : 'always';
 * const { log } = UpdateLog.open('doc.ylog', { fsync, snapshot: () => Y.encodeStateAsUpdate(doc) });
 * ```
 */
export type FsyncPolicy =
  /** After every batch of appends (one per event-loop turn): an acknowledged edit survives power loss. */
  | 'always'
  /** Leave it to the OS: survives a process crash, not a power cut. Fast; for tests and benchmarks. */
  | 'never';

/**
 * Options of {@link UpdateLog.open}.
 *
 * @example
 * ```ts
 * const options: UpdateLogOptions = {
 *   snapshot: () => Y.encodeStateAsUpdate(doc),
 *   compactBytes: 16 * 1024 * 1024,
 *   log: (message) => logger.warn(message),
 * };
 * ```
 */
export interface UpdateLogOptions {
  fsync?: FsyncPolicy;
  /**
   * Compact once the log is larger than this and than twice its last compacted size
   * (default 4 MiB). The compacted size is the log's first record: after a compaction
   * (or a restart) the log starts with the merged document. After a compaction fails,
   * the next is tried with the first write {@link COMPACT_RETRY_MS} (30 s) later, the
   * wait doubling while it keeps failing up to {@link COMPACT_RETRY_MAX_MS} (10 min), or
   * as soon as the log has doubled since, whichever comes first.
   */
  compactBytes?: number;
  /** Returns the merged document to compact into (Y.encodeStateAsUpdate). */
  snapshot: () => Uint8Array;
  log?: (message: string) => void;
  /** When to try a failed compaction again (default: the real clock); only `now()` is used. */
  clock?: Clock;
}

/** A compaction that failed: the next is tried after `at`, or once the log is `size` or more. */
interface CompactRetry {
  failures: number;
  at: number;
  size: number;
}

/**
 * The append-only update log of one document; see the module comment.
 *
 * @example
 * ```ts
 * const { log, updates } = UpdateLog.open('notes.ylog', { snapshot: () => Y.encodeStateAsUpdate(doc) });
 * updates.forEach((u) => Y.applyUpdate(doc, u));
 * doc.on('update', (u) => log.append(u));
 * process.once('beforeExit', () => log.close());
 * ```
 */
export class UpdateLog {
  #fd: number;
  #size: number;
  #baseSize: number;
  #pending: Uint8Array[] = [];
  #scheduled = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #compactRetry: CompactRetry | undefined;
  readonly #say: (message: string) => void;
  readonly #clock: Clock;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
    baseSize: number,
    private readonly options: UpdateLogOptions,
  ) {
    this.#fd = fd;
    this.#size = size;
    this.#baseSize = baseSize;
    this.#say = options.log!; // open() fills in the default
    this.#clock = options.clock ?? realClock();
  }

  /**
   * Open (creating if needed) the log at `path`; returns it with every intact update
   * stored in it, oldest first. Throws a `MeshpartyError`: `log-version` for a log of
   * another format version (left as it is), `log-unreadable` when the file cannot be
   * read or written (a directory, no permission, an I/O error).
   *
   * @example
   * ```ts
   * const { log, updates } = UpdateLog.open('doc.ylog', { snapshot: () => Y.encodeStateAsUpdate(doc) });
   * for (const u of updates) Y.applyUpdate(doc, u);
   * doc.on('update', (u) => log.append(u));
   * ```
   */
  static open(path: string, options: UpdateLogOptions): { log: UpdateLog; updates: Uint8Array[] } {
    const say = options.log ?? ((m: string) => console.warn(`[meshparty keeper] ${m}`));
    try {
      const bytes = existsSync(path) ? readFileSync(path) : undefined;
      const { records, problem } = bytes ? readLogFile(bytes) : { records: [] };
      if (bytes && problem) {
        const copy = copyAside(path, bytes);
        replaceFileDurably(path, encodeLogFile(records));
        say(`${path}: ${problem}; kept ${records.length} intact records, the original is at ${copy}`);
      } else if (!bytes || bytes.length === 0) {
        replaceFileDurably(path, LOG_MAGIC); // created whole: header, fsync, rename, directory fsync
      }
      const fd = openSync(path, 'r+');
      const size = fstatSync(fd).size;
      const baseSize = LOG_MAGIC.length + (records[0] ? 8 + records[0].length : 0);
      return { log: new UpdateLog(path, fd, size, baseSize, { ...options, log: say }), updates: records };
    } catch (err) {
      if (err instanceof MeshpartyError) throw err;
      throw new MeshpartyError('log-unreadable', `${path}: ${(err as Error).message}`, { path });
    }
  }

  /** Bytes in the log file. */
  get size(): number {
    return this.#size;
  }

  /** Queue an update; written (and fsynced per policy) at the end of this event-loop turn. */
  append(update: Uint8Array): void {
    if (this.#closed) return;
    this.#pending.push(update);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#flushOrSay());
  }

  /**
   * Write every queued update now. Throws `MeshpartyError('log-write-failed')` when the
   * write fails; the updates stay queued and are written again (with the next append,
   * or on a timer).
   */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed || this.#pending.length === 0) return;
    const batch = encodeRecords(this.#pending);
    try {
      writeFully(this.#fd, batch, this.#size);
      if ((this.options.fsync ?? 'always') === 'always') fsyncSync(this.#fd);
    } catch (err) {
      // Cut off whatever part of the batch got written, so the next batch starts right
      // after the last whole record (a record after a hole would be unreadable).
      try {
        ftruncateSync(this.#fd, this.#size);
      } catch {
        // the file keeps a partial record at its end: loading salvages around it
      }
      this.#retryLater();
      throw new MeshpartyError('log-write-failed', `${this.path}: could not write ${this.#pending.length} updates (kept, will retry): ${(err as Error).message}`, {
        path: this.path,
      });
    }
    this.#pending = [];
    this.#size += batch.length;
    if (this.#size > Math.max(this.options.compactBytes ?? 4 * 1024 * 1024, 2 * this.#baseSize) && this.#compactDue()) this.#compactOrSay();
  }

  /**
   * Replace the log by one record holding the whole document (temp file, fsync, atomic
   * rename). Queued updates are in that document, so they are written with it.
   */
  compact(): void {
    if (this.#closed) return;
    const file = encodeLogFile([this.options.snapshot()]);
    // The new file's own descriptor, not a second open after the rename: were that open to
    // fail, later appends would go to the old file, which no name reaches any more.
    const fd = replaceFileOpen(this.path, file);
    this.#pending = [];
    const old = this.#fd;
    this.#fd = fd;
    this.#size = this.#baseSize = file.length;
    this.#compactRetry = undefined;
    closeSync(old);
  }

  /**
   * Copy the log as it is on disk to `<log>.damaged-<ms>` and return that path: for a
   * caller that could not use some stored records, so a later compaction does not erase
   * the only copy of them. A copy with the same bytes that exists already is reused (its
   * path returned), so the same damage met at every start is kept once.
   */
  keepCopy(): string {
    return copyAside(this.path, readFileSync(this.path));
  }

  /**
   * Flush and close. Idempotent. Returns how many queued updates could not be written
   * (the final write failed: a full disk), so the caller can say that they are lost.
   */
  close(): number {
    if (this.#closed) return 0;
    clearTimeout(this.#retry);
    let lost = 0;
    try {
      this.flush();
    } catch (err) {
      lost = this.#pending.length;
      this.#say(`${this.path}: final write failed, ${lost} updates lost: ${(err as Error).message}`);
    }
    this.#closed = true;
    closeSync(this.#fd);
    return lost;
  }

  #flushOrSay(): void {
    try {
      this.flush();
    } catch (err) {
      // A full disk must not crash the keeper: the batch is kept and tried again.
      this.#say((err as Error).message);
    }
  }

  /** An idle document gets no next append to retry with: try again on a timer. */
  #retryLater(): void {
    if (this.#retry || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#flushOrSay();
    }, RETRY_MS);
    this.#retry.unref?.();
  }

  /** No compaction failed lately, or the wait after the last failure is over. */
  #compactDue(): boolean {
    const retry = this.#compactRetry;
    return !retry || this.#clock.now() >= retry.at || this.#size >= retry.size;
  }

  #compactOrSay(): void {
    try {
      this.compact();
    } catch (err) {
      // Every update is in the log already; only its size suffers. A failure may pass (a
      // full disk freed, a descriptor limit), so try again after a while, backing off while
      // it keeps failing, or sooner once the log has doubled (at most one try per doubling).
      const failures = (this.#compactRetry?.failures ?? 0) + 1;
      const waitMs = backoffDelay(failures - 1, { initialMs: COMPACT_RETRY_MS, maxMs: COMPACT_RETRY_MAX_MS, jitter: 0 }, Math.random);
      this.#compactRetry = { failures, at: this.#clock.now() + waitMs, size: 2 * this.#size };
      this.#say(
        `${this.path}: compaction failed (${failures} in a row), the log keeps growing until it succeeds; ` +
          `next try in ${Math.round(waitMs / 1000)} s or at ${2 * this.#size} bytes: ${(err as Error).message}`,
      );
    }
  }
}

/**
 * Write `bytes` (a log's original content) to `<path>.damaged-<ms>` and return that path;
 * or return an existing copy that holds the same bytes. The same damage is met again at
 * every start until the log is rewritten (a rewrite that failed: a full disk), and a copy
 * per start would fill the disk with identical files.
 */
function copyAside(path: string, bytes: Uint8Array): string {
  const same = sameCopy(path, bytes);
  if (same) return same;
  let copy = `${path}.damaged-${Date.now()}`;
  for (let n = 1; existsSync(copy); n++) copy = `${path}.damaged-${Date.now()}-${n}`;
  replaceFileDurably(copy, bytes);
  return copy;
}

/** A `<path>.damaged-*` file holding exactly `bytes`, if there is one. */
function sameCopy(path: string, bytes: Uint8Array): string | undefined {
  const prefix = `${basename(path)}.damaged-`;
  let files: string[];
  try {
    files = readdirSync(dirname(path));
  } catch {
    return undefined; // then a new copy is made, as before
  }
  for (const file of files) {
    // A `.tmp` is a copy cut short by a crash, never the one to rely on.
    if (!file.startsWith(prefix) || file.endsWith('.tmp')) continue;
    const candidate = join(dirname(path), file);
    try {
      if (statSync(candidate).size === bytes.length && readFileSync(candidate).equals(bytes)) return candidate;
    } catch {
      // unreadable or gone meanwhile: not a copy to rely on
    }
  }
  return undefined;
}
