/**
 * An append-only log of Yjs updates for one document (Node only).
 *
 * File: an 8-byte header `MPYLOG1\n`, then records `length:u32le crc32:u32le payload`.
 * Appends are batched (one write per event-loop turn) and fsynced per batch by default.
 * A record whose length runs past the end of the file or whose checksum does not match
 * — a write torn by a crash — ends the log: the file is truncated there on load and the
 * reason is logged; every record before it is kept. When the log outgrows a threshold it
 * is compacted into one record holding the merged document, written to a temp file,
 * fsynced and renamed over the log, so a crash leaves either the old or the new log.
 */
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from './crc32.js';

const MAGIC = new TextEncoder().encode('MPYLOG1\n');
const RECORD_HEADER = 8;

/** When to fsync appended records. */
export type FsyncPolicy =
  /** After every batch of appends (one per event-loop turn): an acknowledged edit survives power loss. */
  | 'always'
  /** Leave it to the OS: survives a process crash, not a power cut. Fast; for tests and benchmarks. */
  | 'never';

/** Options of {@link UpdateLog.open}. */
export interface UpdateLogOptions {
  fsync?: FsyncPolicy;
  /** Compact once the log is larger than this and than twice its last compacted size (default 4 MiB). */
  compactBytes?: number;
  /** Returns the merged document to compact into (Y.encodeStateAsUpdate). */
  snapshot: () => Uint8Array;
  log?: (message: string) => void;
}

/** The append-only update log of one document; see the module comment. */
export class UpdateLog {
  #fd: number;
  #size: number;
  #baseSize: number;
  #pending: Uint8Array[] = [];
  #scheduled = false;
  #closed = false;

  private constructor(
    readonly path: string,
    fd: number,
    size: number,
    private readonly options: UpdateLogOptions,
  ) {
    this.#fd = fd;
    this.#size = size;
    this.#baseSize = size;
  }

  /**
   * Open (creating if needed) the log at `path`; returns it with every intact update
   * stored in it, oldest first.
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
    const updates: Uint8Array[] = [];
    let keep = 0;
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      const { records, end, problem } = readRecords(bytes);
      updates.push(...records);
      keep = end;
      if (problem) say(`${path}: ${problem}; truncated from ${bytes.length} to ${end} bytes, ${records.length} records kept`);
    }
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    if (keep === 0) {
      ftruncateSync(fd, 0);
      writeSync(fd, MAGIC, 0, MAGIC.length, 0);
      keep = MAGIC.length;
    } else {
      ftruncateSync(fd, keep);
    }
    fsyncSync(fd);
    return { log: new UpdateLog(path, fd, keep, { ...options, log: say }), updates };
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
    setImmediate(() => {
      try {
        this.flush();
      } catch (err) {
        // A full disk must not crash the keeper: keep the batch and try again with the next append.
        this.options.log?.(`${this.path}: write failed, will retry: ${(err as Error).message}`);
      }
    });
  }

  /** Write every queued update now. */
  flush(): void {
    this.#scheduled = false;
    if (this.#closed || this.#pending.length === 0) return;
    const batch = encodeRecords(this.#pending);
    writeSync(this.#fd, batch, 0, batch.length, this.#size);
    this.#pending = [];
    this.#size += batch.length;
    if ((this.options.fsync ?? 'always') === 'always') fsyncSync(this.#fd);
    const threshold = Math.max(this.options.compactBytes ?? 4 * 1024 * 1024, 2 * this.#baseSize);
    if (this.#size > threshold) this.compact();
  }

  /** Replace the log by one record holding the whole document (temp file, fsync, atomic rename). */
  compact(): void {
    if (this.#closed) return;
    const records = encodeRecords([this.options.snapshot()]);
    this.#pending = []; // the snapshot already contains them
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, MAGIC, 0, MAGIC.length, 0);
    writeSync(fd, records, 0, records.length, MAGIC.length);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    syncDir(dirname(this.path));
    closeSync(this.#fd);
    this.#fd = openSync(this.path, 'r+');
    this.#size = this.#baseSize = MAGIC.length + records.length;
  }

  /** Flush and close. Idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      this.flush();
    } catch (err) {
      this.options.log?.(`${this.path}: final write failed, ${this.#pending.length} updates lost: ${(err as Error).message}`);
    }
    this.#closed = true;
    closeSync(this.#fd);
  }
}

function encodeRecords(payloads: Uint8Array[]): Uint8Array {
  const total = payloads.reduce((n, p) => n + RECORD_HEADER + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of payloads) {
    view.setUint32(at, p.length, true);
    view.setUint32(at + 4, crc32(p), true);
    out.set(p, at + RECORD_HEADER);
    at += RECORD_HEADER + p.length;
  }
  return out;
}

/** Intact records up to the first damaged one, where that one starts, and why it ends there. */
export function readRecords(bytes: Uint8Array): { records: Uint8Array[]; end: number; problem?: string } {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    return { records: [], end: 0, problem: bytes.length === 0 ? undefined : 'missing or damaged header' };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let at = MAGIC.length;
  while (at < bytes.length) {
    if (bytes.length - at < RECORD_HEADER) return { records, end: at, problem: `torn record header at byte ${at}` };
    const length = view.getUint32(at, true);
    const sum = view.getUint32(at + 4, true);
    if (length > bytes.length - at - RECORD_HEADER) return { records, end: at, problem: `record at byte ${at} runs past the end of the file` };
    const payload = bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length);
    if (crc32(payload) !== sum) return { records, end: at, problem: `checksum mismatch in record at byte ${at}` };
    records.push(payload.slice());
    at += RECORD_HEADER + length;
  }
  return { records, end: at };
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some filesystems cannot fsync a directory; the rename itself is still atomic
  }
}
