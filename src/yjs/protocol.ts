/**
 * The wire format of one document channel (`yjs:<name>`). Every message is fully decoded
 * and checked here before anything is applied, so a malformed message is dropped whole
 * and never half-applied. The grammar is in PROTOCOL.md ("Co-editing (Yjs)").
 *
 * ```
 * message    = syncStep1 | syncStep2 | update | awareness | forwardedUpdate | forwardedAwareness
 * syncStep1  = 0x00 kind:varUint stateVector:varBytes   (kind 0 = hello, 1 = recheck)
 * syncStep2  = 0x01 update:varBytes
 * update     = 0x02 update:varBytes
 * awareness  = 0x03 awarenessUpdate:varBytes            (y-protocols awareness encoding)
 * forwardedUpdate    = 0x04 update:varBytes             (another peer's, passed on: forwarding.ts)
 * forwardedAwareness = 0x05 awarenessUpdate:varBytes    (another peer's, passed on)
 * ```
 */
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { validateUpdateV1 } from './update-check.js';

/** Message tags (first varUint of every message). */
export enum YjsTag {
  SyncStep1 = 0,
  SyncStep2 = 1,
  Update = 2,
  Awareness = 3,
  /** Another peer's update or sync step 2, passed on by the sender (never passed on again). */
  ForwardedUpdate = 4,
  /** Another peer's presence, passed on by the sender (never passed on again). */
  ForwardedAwareness = 5,
}

/**
 * Why a step 1 was sent. A `hello` is sent once per peer connection and is always
 * answered; a `recheck` follows our answer to a peer's hello and is answered only if we
 * never answered a step 1 from that peer (our hello was lost because the peer's provider
 * did not exist yet), so the usual case costs no second document transfer.
 */
export enum Step1Kind {
  Hello = 0,
  Recheck = 1,
}

/** A decoded, validated message. */
export type YjsMessage =
  | { tag: YjsTag.SyncStep1; kind: Step1Kind; stateVector: Uint8Array }
  | { tag: YjsTag.SyncStep2; update: Uint8Array }
  | { tag: YjsTag.Update | YjsTag.ForwardedUpdate; update: Uint8Array }
  | { tag: YjsTag.Awareness | YjsTag.ForwardedAwareness; update: Uint8Array; entries: AwarenessEntry[] };

/** One client's entry in an awareness update. */
export interface AwarenessEntry {
  clientId: number;
  clock: number;
  state: Record<string, unknown> | null;
}

/**
 * Size limits a receiver enforces (pass some of them as `limits` to the provider).
 *
 * @example
 * ```ts
 * const limits: Partial<YjsLimits> = { maxUpdateBytes: 128 * 1024 * 1024, maxPresenceClients: 8 };
 * createYjsProvider(room, doc, { name: 'big-doc', limits });
 * ```
 */
export interface YjsLimits {
  /** Largest document update accepted (step 2 or incremental), in bytes. */
  maxUpdateBytes: number;
  /** Largest awareness update accepted, in bytes. */
  maxAwarenessBytes: number;
  /**
   * Presence clients one peer may speak for at once (a peer speaks for the client of each
   * provider it has on the document, usually one). A presence update that would take a
   * peer past it is dropped (a bad message): the states are kept until the peer leaves,
   * so a peer inventing client ids would otherwise grow every provider it stays with.
   */
  maxPresenceClients: number;
}

/** Default limits: the mesh's default message limit for updates, 1 MiB for presence, 64 presence clients per peer. */
export const DEFAULT_YJS_LIMITS: YjsLimits = { maxUpdateBytes: 64 * 1024 * 1024, maxAwarenessBytes: 1024 * 1024, maxPresenceClients: 64 };

/**
 * Largest state vector accepted in a step 1. A state vector is a few bytes per client
 * that ever edited the document, so 1 MiB is far beyond any real document, and it keeps
 * one message from making us encode an answer against a huge vector.
 */
export const MAX_STATE_VECTOR_BYTES = 1024 * 1024;

/** Encode a sync step 1 (our state vector). */
export function encodeSyncStep1(kind: Step1Kind, stateVector: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, YjsTag.SyncStep1);
  encoding.writeVarUint(e, kind);
  encoding.writeVarUint8Array(e, stateVector);
  return encoding.toUint8Array(e);
}

/** Encode a sync step 2, an incremental update or a forwarded one. */
export function encodeUpdate(tag: YjsTag.SyncStep2 | YjsTag.Update | YjsTag.ForwardedUpdate, update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, tag);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** Encode an awareness message (ours, or `forwarded` another peer's) around a y-protocols awareness update. */
export function encodeAwareness(update: Uint8Array, forwarded = false): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, forwarded ? YjsTag.ForwardedAwareness : YjsTag.Awareness);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** The result of decoding: a message, or the reason it was dropped. */
export type DecodeResult = { ok: true; message: YjsMessage } | { ok: false; reason: string };

/**
 * Decode and validate one message completely. Never throws: anything malformed,
 * oversized or with trailing bytes comes back as `{ ok: false, reason }`.
 */
export function decodeYjsMessage(bytes: Uint8Array, limits: YjsLimits = DEFAULT_YJS_LIMITS): DecodeResult {
  try {
    const d = decoding.createDecoder(bytes);
    const tag = decoding.readVarUint(d);
    let message: YjsMessage;
    switch (tag) {
      case YjsTag.SyncStep1: {
        const kind = decoding.readVarUint(d);
        if (kind !== Step1Kind.Hello && kind !== Step1Kind.Recheck) return fail(`unknown step 1 kind ${kind}`);
        const stateVector = decoding.readVarUint8Array(d);
        if (stateVector.length > MAX_STATE_VECTOR_BYTES) return fail(`state vector of ${stateVector.length} bytes exceeds ${MAX_STATE_VECTOR_BYTES}`);
        Y.decodeStateVector(stateVector);
        message = { tag, kind, stateVector };
        break;
      }
      case YjsTag.SyncStep2:
      case YjsTag.Update:
      case YjsTag.ForwardedUpdate: {
        const update = decoding.readVarUint8Array(d);
        if (update.length > limits.maxUpdateBytes) return fail(`update of ${update.length} bytes exceeds ${limits.maxUpdateBytes}`);
        const problem = checkUpdate(update);
        if (problem) return fail(problem);
        message = { tag, update };
        break;
      }
      case YjsTag.Awareness:
      case YjsTag.ForwardedAwareness: {
        const update = decoding.readVarUint8Array(d);
        if (update.length > limits.maxAwarenessBytes) return fail(`awareness update of ${update.length} bytes exceeds ${limits.maxAwarenessBytes}`);
        const entries = decodeAwarenessEntries(update);
        if (typeof entries === 'string') return fail(entries);
        message = { tag, update, entries };
        break;
      }
      default:
        return fail(`unknown message tag ${tag}`);
    }
    if (decoding.hasContent(d)) return fail('trailing bytes after message');
    return { ok: true, message };
  } catch (err) {
    return fail(`malformed message: ${(err as Error).message}`);
  }
}

/**
 * Read a whole Yjs update (every struct and the delete set) without applying it, and
 * return a reason when it is malformed. Yjs integrates structs before it reads the
 * delete set, so applying an unchecked update could leave half of it applied. The walk is
 * `validateUpdateV1`'s: as strict as `Y.decodeUpdate`, a few times cheaper.
 */
export function checkUpdate(update: Uint8Array): string | undefined {
  return validateUpdateV1(update);
}

function decodeAwarenessEntries(update: Uint8Array): AwarenessEntry[] | string {
  const d = decoding.createDecoder(update);
  const count = decoding.readVarUint(d);
  if (count > 10_000) return `awareness update lists ${count} clients`;
  const entries: AwarenessEntry[] = [];
  for (let i = 0; i < count; i++) {
    const clientId = decoding.readVarUint(d);
    const clock = decoding.readVarUint(d);
    const state: unknown = JSON.parse(decoding.readVarString(d));
    if (state !== null && (typeof state !== 'object' || Array.isArray(state))) return 'awareness state is not an object or null';
    entries.push({ clientId, clock, state: state as Record<string, unknown> | null });
  }
  if (decoding.hasContent(d)) return 'trailing bytes after awareness update';
  return entries;
}

function fail(reason: string): DecodeResult {
  return { ok: false, reason };
}
