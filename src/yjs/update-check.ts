/**
 * A lean well-formedness check for Yjs updates (V1 encoding), run on every update before
 * `Y.applyUpdate`. Yjs integrates the structs of an update before it reads the delete set,
 * so a malformed update could otherwise be applied in part. `Y.decodeUpdate` would catch
 * the same errors but allocates an Item, IDs and a content object per struct (through a
 * generator), which made it a large part of a receiver's cost per edit; this walks the
 * bytes instead and keeps only what strictness needs (strings, JSON and `any` values are
 * still decoded, by the same lib0 readers and `JSON.parse` that Yjs uses, so UTF-8,
 * varint and value strictness are identical).
 *
 * It mirrors yjs 13.6's `lazyStructReaderGenerator` (what `Y.decodeUpdate` runs; stricter
 * than `readClientsStructRefs`, see Skip below) + `readItemContent` + `readDeleteSet`:
 *
 * ```
 * update  = clients:varUint (structs:varUint client:varUint clock:varUint struct{structs}){clients} deleteSet
 * struct  = info:uint8 ( len:varUint                            GC (info & 31 = 0) or Skip (info = 10)
 *                      | [origin:ID] [rightOrigin:ID] [parent [parentSub:varString]] content )
 * parent  = 1:varUint key:varString | other:varUint ID           (only when neither origin is present)
 * ID      = client:varUint clock:varUint
 * deleteSet = clients:varUint (client:varUint n:varUint (clock:varUint len:varUint){n}){clients}
 * ```
 *
 * It is stricter than Yjs in three ways, each something Yjs never writes and that made
 * `Y.applyUpdate` throw after part of the update was in (found by fuzzing): an empty
 * struct, an empty delete range, and an item that refers (as origin, right origin or
 * parent) to an item of its own client that is not earlier than itself. With these, no
 * fuzzed update it accepts makes `Y.applyUpdate` throw.
 *
 * Clocks and lengths are not range-checked (Yjs accepts any varUint there, even when
 * clock + len passes 2^53), and bytes after the delete set are ignored, as Yjs ignores them.
 * One limit cannot be matched exactly: `any` values nested some 4,000-7,000 deep overflow
 * the stack in lib0's recursive `readAny`, here and in Yjs, at a depth that depends on the
 * caller's stack and on JIT state.
 */
import * as decoding from 'lib0/decoding';

type Decoder = decoding.Decoder;

const BIT6 = 0x20; // parentSub present
const BIT7 = 0x40; // rightOrigin present
const BIT8 = 0x80; // origin present
const SKIP = 10;

/**
 * Check that `update` is a well-formed V1 Yjs update without applying or decoding it into
 * structs. Rejects everything `Y.decodeUpdate` throws on and accepts everything it accepts,
 * but for the three stricter rules and the stack-depth limit (see the module comment).
 * Never throws.
 *
 * @returns undefined when well-formed, else a short reason.
 * @example
 * const problem = validateUpdateV1(update);
 * if (problem) return fail(problem); // e.g. 'malformed update: unknown content ref 17'
 * Y.applyUpdate(doc, update);
 */
export function validateUpdateV1(update: Uint8Array): string | undefined {
  try {
    const d = decoding.createDecoder(update);
    const clients = countOf(d);
    for (let c = 0; c < clients; c++) {
      const structs = decoding.readVarUint(d);
      const client = decoding.readVarUint(d);
      let clock = decoding.readVarUint(d);
      ensureRoom(d, structs);
      for (let s = 0; s < structs; s++) clock += readStruct(d, client, clock);
    }
    const dsClients = countOf(d);
    for (let c = 0; c < dsClients; c++) {
      decoding.readVarUint(d); // client
      const ranges = countOf(d);
      for (let r = 0; r < ranges; r++) {
        decoding.readVarUint(d); // clock
        // Stricter than Yjs, on purpose: Yjs never writes an empty range, and applying one
        // beyond the doc's state throws after the update's structs are already in.
        if (decoding.readVarUint(d) === 0) fail('empty delete range');
      }
    }
    return undefined; // trailing bytes are ignored, as in Y.decodeUpdate and Y.applyUpdate
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // lib0's readAny fails on an unknown tag by calling a missing table entry.
    return `malformed update: ${/is not a function/.test(message) ? 'unknown any-encoded value tag' : message}`;
  }
}

/** Read one struct of `client` at `clock`; returns its length in clock units. */
function readStruct(d: Decoder, client: number, clock: number): number {
  // Past the end readUint8 gives undefined (it does not throw); `undefined & 31` is 0, so
  // like Yjs we take the GC branch and the length read throws.
  const info = decoding.readUint8(d);
  // Quirk mirrored: decodeUpdate's reader treats only the exact byte 10 as Skip. Ref 10 with
  // flag bits set is read as an Item and fails on `contentRefs[10]` (applyUpdate's reader
  // would take it as a Skip; rejecting it is the stricter choice).
  const ref = info & 31;
  if (info === SKIP || ref === 0) return lengthOf(decoding.readVarUint(d)); // Skip or GC (GC ignores the flag bits)
  if (ref > 9) fail(`unknown content ref ${ref}`);
  if (info & BIT8) readEarlierID(d, client, clock, 'left origin');
  if (info & BIT7) readEarlierID(d, client, clock, 'right origin');
  if ((info & (BIT7 | BIT8)) === 0) {
    if (decoding.readVarUint(d) === 1) decoding.readVarString(d); // top-level type name
    else readEarlierID(d, client, clock, 'parent');
    if (info & BIT6) decoding.readVarString(d);
  }
  return lengthOf(readContent(d, ref));
}

/** Stricter than Yjs, on purpose: it never writes an empty struct, and two structs would share one id. */
function lengthOf(length: number): number {
  if (length === 0) fail('empty struct');
  return length;
}

/**
 * An item refers to items that existed when it was made, so one of its own client's must
 * have a smaller clock. Stricter than Yjs's reader, on purpose: an item referring to
 * itself or later makes Yjs throw while it integrates the update, after the structs
 * before it are in.
 */
function readEarlierID(d: Decoder, client: number, clock: number, what: string): void {
  const refClient = decoding.readVarUint(d);
  const refClock = decoding.readVarUint(d);
  if (refClient === client && refClock >= clock) fail(`${what} ${refClient}:${refClock} is not earlier than the item ${client}:${clock}`);
}

/** Read an item's content; returns its length in clock units (as Yjs's content classes count it). */
function readContent(d: Decoder, ref: number): number {
  switch (ref) {
    case 1: // ContentDeleted
      return decoding.readVarUint(d);
    case 2: { // ContentJSON (legacy): 'undefined' is special-cased by Yjs, the rest is JSON.parse'd
      const n = countOf(d);
      for (let i = 0; i < n; i++) {
        const s = decoding.readVarString(d);
        if (s !== 'undefined') JSON.parse(s);
      }
      return n;
    }
    case 3: // ContentBinary
      decoding.readVarUint8Array(d);
      return 1;
    case 4: // ContentString: its length is in UTF-16 code units
      return decoding.readVarString(d).length;
    case 5: // ContentEmbed (no 'undefined' special case here)
      JSON.parse(decoding.readVarString(d));
      return 1;
    case 6: // ContentFormat: key, JSON value
      decoding.readVarString(d);
      JSON.parse(decoding.readVarString(d));
      return 1;
    case 7: { // ContentType: Array, Map, Text, XmlElement(name), XmlFragment, XmlHook(name), XmlText
      const type = decoding.readVarUint(d);
      if (type === 3 || type === 5) decoding.readVarString(d);
      else if (type > 6) fail(`unknown type ref ${type}`);
      return 1;
    }
    case 8: { // ContentAny
      const n = countOf(d);
      for (let i = 0; i < n; i++) decoding.readAny(d);
      return n;
    }
    default: { // 9, ContentDoc: guid, options
      decoding.readVarString(d);
      // Quirk mirrored: Yjs reads `opts.shouldLoad`, which throws when opts is null/undefined.
      if (decoding.readAny(d) == null) fail('subdocument options are null');
      return 1;
    }
  }
}

/**
 * Read a count of things that each take at least one byte. A count larger than the bytes
 * left can only end in "Unexpected end of array" in Yjs too, so fail now instead of looping.
 */
function countOf(d: Decoder): number {
  const n = decoding.readVarUint(d);
  ensureRoom(d, n);
  return n;
}

function ensureRoom(d: Decoder, n: number): void {
  if (n > d.arr.length - d.pos) fail('Unexpected end of array');
}

function fail(reason: string): never {
  throw new Error(reason);
}
