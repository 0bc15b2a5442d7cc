/**
 * The bytes of an update log file (PROTOCOL.md, "Keeper storage"): an 8-byte header
 * `MPYLOG1\n`, then records `length:u32le crc32:u32le payload`.
 *
 * Reading salvages: a record whose checksum holds is kept wherever it is, so one damaged
 * record (a flipped bit, a torn write) costs that record, not every record after it.
 * Yjs updates commute, and one whose dependencies are lost waits as pending until a peer
 * sends them, so skipping a record never makes the others wrong.
 */
import { MeshpartyError } from '../../util/errors.js';
import { crc32 } from './crc32.js';

export const LOG_MAGIC = new TextEncoder().encode('MPYLOG1\n');
const RECORD_HEADER = 8;
/** How many payload bytes a search for the next intact record may checksum (bounds a scan of garbage). */
const RESYNC_BUDGET_BYTES = 256 * 1024 * 1024;

/** What reading a log file found. */
export interface ReadLog {
  /** Every intact record's payload, in file order. */
  records: Uint8Array[];
  /** Why some bytes could not be read (undefined: the file is whole). */
  problem?: string;
}

/** The header and records of `payloads`, as one buffer to write. */
export function encodeRecords(payloads: readonly Uint8Array[]): Uint8Array {
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

/** The header followed by `payloads`: a whole log file. */
export function encodeLogFile(payloads: readonly Uint8Array[]): Uint8Array {
  const records = encodeRecords(payloads);
  const out = new Uint8Array(LOG_MAGIC.length + records.length);
  out.set(LOG_MAGIC);
  out.set(records, LOG_MAGIC.length);
  return out;
}

/**
 * Read a log file's bytes. Throws `MeshpartyError('log-version')` for a log of another
 * format version (`MPYLOGn\n`, n ≠ 1): such a file is left alone, never rewritten.
 *
 * @example
 * ```ts
 * const { records, problem } = readLogFile(readFileSync('doc.ylog'));
 * ```
 */
export function readLogFile(bytes: Uint8Array): ReadLog {
  if (bytes.length === 0) return { records: [] };
  const headerOk = bytes.length >= LOG_MAGIC.length && LOG_MAGIC.every((b, i) => bytes[i] === b);
  if (!headerOk && isOtherVersion(bytes)) {
    throw new MeshpartyError('log-version', `log format ${String.fromCharCode(bytes[6]!)} is not one this keeper reads (it reads 1)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  const problems: string[] = headerOk ? [] : ['damaged header'];
  let budget = RESYNC_BUDGET_BYTES;
  /** The record at `at` if it is intact: its length and checksum hold. */
  const intactAt = (at: number, searching = false): Uint8Array | undefined => {
    if (bytes.length - at < RECORD_HEADER) return undefined;
    const length = view.getUint32(at, true);
    // A Yjs update is never empty: a zero length is unwritten (zero-filled) space.
    if (length === 0 || length > bytes.length - at - RECORD_HEADER) return undefined;
    if (searching) budget -= length;
    const payload = bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length);
    return crc32(payload) === view.getUint32(at + 4, true) ? payload : undefined;
  };
  let at = Math.min(LOG_MAGIC.length, bytes.length);
  while (at < bytes.length) {
    const record = intactAt(at);
    if (record) {
      records.push(record.slice());
      at += RECORD_HEADER + record.length;
      continue;
    }
    // Not a record here: look for the next intact one, byte by byte.
    const from = at;
    let found = false;
    for (at++; at < bytes.length && budget > 0; at++) {
      if (intactAt(at, true)) {
        found = true;
        break;
      }
    }
    if (!found) at = bytes.length;
    problems.push(found ? `unreadable bytes ${from}..${at}` : `unreadable tail from byte ${from} (${bytes.length - from} bytes)`);
  }
  return { records, ...(problems.length > 0 && { problem: problems.join(', ') }) };
}

/** `MPYLOGn\n` with a version digit other than 1. */
function isOtherVersion(bytes: Uint8Array): boolean {
  if (bytes.length < LOG_MAGIC.length || bytes[7] !== 0x0a) return false;
  const version = bytes[6]!;
  return version >= 0x30 && version <= 0x39 && version !== LOG_MAGIC[6] && LOG_MAGIC.subarray(0, 6).every((b, i) => bytes[i] === b);
}
