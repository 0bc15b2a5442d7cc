/**
 * The document catalog of a room: every provider says which document it serves on the
 * `yjs-docs` channel (to everyone when it starts, to each peer that joins), so a peer
 * that stores documents it was never told about — the keeper — learns their names.
 *
 * ```
 * announce = count:varUint (name:varString){count}
 * ```
 */
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

/** The channel the catalog uses. */
export const CATALOG_CHANNEL = 'yjs-docs';
/** Longest document name accepted, in UTF-16 code units. */
export const MAX_DOC_NAME_LENGTH = 256;

/** Encode an announcement of document names. */
export function encodeAnnounce(names: readonly string[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, names.length);
  for (const n of names) encoding.writeVarString(e, n);
  return encoding.toUint8Array(e);
}

/** Decode an announcement; returns the reason when it is malformed. Never throws. */
export function decodeAnnounce(bytes: Uint8Array): string[] | string {
  try {
    const d = decoding.createDecoder(bytes);
    const count = decoding.readVarUint(d);
    if (count > 1000) return `announcement lists ${count} documents`;
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const name = decoding.readVarString(d);
      if (name.length === 0 || name.length > MAX_DOC_NAME_LENGTH) return 'document name empty or too long';
      names.push(name);
    }
    if (decoding.hasContent(d)) return 'trailing bytes after announcement';
    return names;
  } catch (err) {
    return `malformed announcement: ${(err as Error).message}`;
  }
}

/** The channel name of one document. */
export function docChannelName(name: string): string {
  return `yjs:${name}`;
}
