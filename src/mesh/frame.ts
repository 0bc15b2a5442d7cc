/**
 * The peer-to-peer frame codec: pure `encode*` / `decodeFrame` functions over the bytes
 * one transport frame carries. PROTOCOL.md ("Peer-to-peer framing") is the normative
 * layout; this file is its mirror and must change with it.
 *
 * Every frame starts with one kind byte. Integers are big-endian.
 *
 *   MSG          0x04 | channel u48 | payload                      a whole message
 *   CHUNK_FIRST  0x05 | channel u48 | msgId u32 | total u32 | payload   first chunk
 *   CHUNK_NEXT   0x03 | msgId u32 | payload                        later chunks, in order
 *   PING         0x10 | seq u32 | sentAt f64                       heartbeat
 *   PONG         0x11 | seq u32 | sentAt f64                       echo of a PING
 *   BYE          0x12                                              leaving on purpose
 *
 * A channel is named on the wire by the first 48 bits of the SHA-256 of its UTF-8 name,
 * so no per-pair handshake is needed and the unreliable channel never depends on a lost
 * "open" message; a room refuses two names with the same id. Why 48 bits of SHA-256: the
 * first format carried a 32-bit FNV-1a, and two peers' documents whose names collided
 * (one in 2^32 per pair of names by chance, and easy to craft) were merged into one. A
 * 48-bit id is one JS number (no bigint on the hot path), makes a chance collision
 * negligible, and takes some 2^48 SHA-256 tries to match a given name on purpose.
 * Kinds 0x01 and 0x02 were that first format's MSG and CHUNK_FIRST: such a frame comes
 * from an older meshparty and is refused as malformed, never read with the wrong id.
 */
import { digest as sha256 } from 'lib0/hash/sha256';

export const FrameKind = {
  msg: 0x04,
  chunkFirst: 0x05,
  chunkNext: 0x03,
  ping: 0x10,
  pong: 0x11,
  bye: 0x12,
} as const;

/** The first frame format's MSG and CHUNK_FIRST kinds (32-bit channel ids), refused. */
const LEGACY_KINDS = new Set([0x01, 0x02]);

/** Header bytes of a MSG frame. */
export const MSG_HEADER = 7;
/** Header bytes of a CHUNK_FIRST frame. */
export const CHUNK_FIRST_HEADER = 15;
/** Header bytes of a CHUNK_NEXT frame. */
export const CHUNK_NEXT_HEADER = 5;
/** Bytes of a PING or PONG frame. */
export const HEARTBEAT_BYTES = 13;

/** A decoded frame, or the reason it is malformed. */
export type Frame =
  | { kind: 'msg'; channel: number; payload: Uint8Array }
  | { kind: 'chunk-first'; channel: number; msgId: number; total: number; payload: Uint8Array }
  | { kind: 'chunk-next'; msgId: number; payload: Uint8Array }
  | { kind: 'ping'; seq: number; sentAt: number }
  | { kind: 'pong'; seq: number; sentAt: number }
  | { kind: 'bye' }
  | { kind: 'bad'; reason: string };

const utf8 = new TextEncoder();

/** The wire id of a channel name: the first 48 bits of SHA-256 over its UTF-8 bytes. */
export function channelId(name: string): number {
  return readU48(sha256(utf8.encode(name)), 0);
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

// Hand-rolled big-endian u32 access: MSG frames are the hot path (every game input), and
// a DataView per frame costs more than the frame's own bytes.
function writeU32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** A channel id: 48 bits, high 16 then low 32 (exact in a JS number). */
function writeU48(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  out[at] = hi >>> 8;
  out[at + 1] = hi & 0xff;
  writeU32(out, at + 2, v >>> 0);
}

function readU48(b: Uint8Array, at: number): number {
  return ((b[at]! << 8) | b[at + 1]!) * 0x1_0000_0000 + readU32(b, at + 2);
}

/** A MSG frame: a whole message for `channel`. */
export function encodeMsg(channel: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MSG_HEADER + payload.byteLength);
  out[0] = FrameKind.msg;
  writeU48(out, 1, channel);
  out.set(payload, MSG_HEADER);
  return out;
}

/** A CHUNK_FIRST frame: opens message `msgId` of `total` bytes with its first part. */
export function encodeChunkFirst(channel: number, msgId: number, total: number, part: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_FIRST_HEADER + part.byteLength);
  out[0] = FrameKind.chunkFirst;
  writeU48(out, 1, channel);
  writeU32(out, 7, msgId);
  writeU32(out, 11, total);
  out.set(part, CHUNK_FIRST_HEADER);
  return out;
}

/** A CHUNK_NEXT frame: the next part of message `msgId`. */
export function encodeChunkNext(msgId: number, part: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_NEXT_HEADER + part.byteLength);
  out[0] = FrameKind.chunkNext;
  writeU32(out, 1, msgId);
  out.set(part, CHUNK_NEXT_HEADER);
  return out;
}

/** A PING (or, with `pong`, its echo). */
export function encodeHeartbeat(kind: 'ping' | 'pong', seq: number, sentAt: number): Uint8Array {
  const out = new Uint8Array(HEARTBEAT_BYTES);
  const v = view(out);
  out[0] = kind === 'ping' ? FrameKind.ping : FrameKind.pong;
  v.setUint32(1, seq >>> 0);
  v.setFloat64(5, sentAt);
  return out;
}

/** A BYE frame. */
export function encodeBye(): Uint8Array {
  return Uint8Array.of(FrameKind.bye);
}

const truncated = (what: string, got: number, need: number): Frame => ({
  kind: 'bad',
  reason: `truncated ${what} (${got} < ${need} bytes)`,
});

/** Decode one frame; never throws (malformed input yields `{ kind: 'bad', reason }`). */
export function decodeFrame(data: Uint8Array): Frame {
  const n = data.byteLength;
  if (n === 0) return { kind: 'bad', reason: 'empty frame' };
  switch (data[0]) {
    case FrameKind.msg:
      if (n < MSG_HEADER) return truncated('msg', n, MSG_HEADER);
      return { kind: 'msg', channel: readU48(data, 1), payload: data.subarray(MSG_HEADER) };
    case FrameKind.chunkFirst:
      if (n < CHUNK_FIRST_HEADER) return truncated('chunk-first', n, CHUNK_FIRST_HEADER);
      return {
        kind: 'chunk-first',
        channel: readU48(data, 1),
        msgId: readU32(data, 7),
        total: readU32(data, 11),
        payload: data.subarray(CHUNK_FIRST_HEADER),
      };
    case FrameKind.chunkNext:
      if (n < CHUNK_NEXT_HEADER) return truncated('chunk-next', n, CHUNK_NEXT_HEADER);
      return { kind: 'chunk-next', msgId: readU32(data, 1), payload: data.subarray(CHUNK_NEXT_HEADER) };
    case FrameKind.ping:
    case FrameKind.pong: {
      if (n !== HEARTBEAT_BYTES) return { kind: 'bad', reason: `heartbeat of ${n} bytes` };
      const sentAt = view(data).getFloat64(5);
      if (!Number.isFinite(sentAt)) return { kind: 'bad', reason: 'heartbeat time not finite' };
      return { kind: data[0] === FrameKind.ping ? 'ping' : 'pong', seq: readU32(data, 1), sentAt };
    }
    case FrameKind.bye:
      return n === 1 ? { kind: 'bye' } : { kind: 'bad', reason: 'bye with trailing bytes' };
    default:
      if (LEGACY_KINDS.has(data[0]!)) return { kind: 'bad', reason: 'frame of an older meshparty (32-bit channel ids): every peer of a room must run a version with the same frame format' };
      return { kind: 'bad', reason: `unknown frame kind 0x${data[0]!.toString(16)}` };
  }
}
