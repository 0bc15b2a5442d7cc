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
 * One rule is stricter than Yjs: a delete range of length 0 is refused (see readDeleteSet
 * below). Clocks and lengths are not range-checked (Yjs accepts any varUint there, even when
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
 * but for empty delete ranges and the stack-depth limit (see the module comment).
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
      decoding.readVarUint(d); // client
      decoding.readVarUint(d); // first clock
      ensureRoom(d, structs);
      for (let s = 0; s < structs; s++) readStruct(d);
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

function readStruct(d: Decoder): void {
  // Past the end readUint8 gives undefined (it does not throw); `undefined & 31` is 0, so
  // like Yjs we take the GC branch and the length read throws.
  const info = decoding.readUint8(d);
  // Quirk mirrored: decodeUpdate's reader treats only the exact byte 10 as Skip. Ref 10 with
  // flag bits set is read as an Item and fails on `contentRefs[10]` (applyUpdate's reader
  // would take it as a Skip; rejecting it is the stricter choice).
  const ref = info & 31;
  if (info === SKIP || ref === 0) { // Skip or GC (GC ignores the flag bits): just a length
    decoding.readVarUint(d);
    return;
  }
  if (ref > 9) fail(`unknown content ref ${ref}`);
  if (info & BIT8) readID(d);
  if (info & BIT7) readID(d);
  if ((info & (BIT7 | BIT8)) === 0) {
    if (decoding.readVarUint(d) === 1) decoding.readVarString(d); // top-level type name
    else readID(d); // parent item
    if (info & BIT6) decoding.readVarString(d);
  }
  readContent(d, ref);
}

function readContent(d: Decoder, ref: number): void {
  switch (ref) {
    case 1: // ContentDeleted
      decoding.readVarUint(d);
      return;
    case 2: { // ContentJSON (legacy): 'undefined' is special-cased by Yjs, the rest is JSON.parse'd
      const n = countOf(d);
      for (let i = 0; i < n; i++) {
        const s = decoding.readVarString(d);
        if (s !== 'undefined') JSON.parse(s);
      }
      return;
    }
    case 3: // ContentBinary
      decoding.readVarUint8Array(d);
      return;
    case 4: // ContentString
      decoding.readVarString(d);
      return;
    case 5: // ContentEmbed (no 'undefined' special case here)
      JSON.parse(decoding.readVarString(d));
      return;
    case 6: // ContentFormat: key, JSON value
      decoding.readVarString(d);
      JSON.parse(decoding.readVarString(d));
      return;
    case 7: { // ContentType: Array, Map, Text, XmlElement(name), XmlFragment, XmlHook(name), XmlText
      const type = decoding.readVarUint(d);
      if (type === 3 || type === 5) decoding.readVarString(d);
      else if (type > 6) fail(`unknown type ref ${type}`);
      return;
    }
    case 8: { // ContentAny
      const n = countOf(d);
      for (let i = 0; i < n; i++) decoding.readAny(d);
      return;
    }
    default: { // 9, ContentDoc: guid, options
      decoding.readVarString(d);
      // Quirk mirrored: Yjs reads `opts.shouldLoad`, which throws when opts is null/undefined.
      if (decoding.readAny(d) == null) fail('subdocument options are null');
    }
  }
}

function readID(d: Decoder): void {
  decoding.readVarUint(d);
  decoding.readVarUint(d);
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
