/**
 * Splitting one message into transport frames, and putting it back together.
 *
 * A message that fits in one frame travels as MSG. A larger one (reliable channels
 * only) travels as CHUNK_FIRST (carrying the total length, so the receiver can refuse
 * an oversized stream before buffering it) followed by CHUNK_NEXT frames. The sender's
 * queue interleaves chunks of different channels' messages (see send-queue.ts), so the
 * receiver keys partial messages by msgId.
 */
import { CHUNK_FIRST_HEADER, CHUNK_NEXT_HEADER, MSG_HEADER, encodeChunkFirst, encodeChunkNext, encodeMsg } from './frame.js';

/** True when `bytes` of payload fit in one MSG frame of at most `maxFrame` bytes. */
export function fitsOneFrame(bytes: number, maxFrame: number): boolean {
  return MSG_HEADER + bytes <= maxFrame;
}

/**
 * The frames of one message, produced lazily (a 64 MiB message is never copied into
 * chunks all at once). `maxFrame` is the transport's maxMessageSize.
 */
export function* messageFrames(channel: number, msgId: number, data: Uint8Array, maxFrame: number): Generator<Uint8Array> {
  if (fitsOneFrame(data.byteLength, maxFrame)) {
    yield encodeMsg(channel, data);
    return;
  }
  if (maxFrame <= CHUNK_FIRST_HEADER) throw new RangeError(`maxFrame ${maxFrame} too small to chunk`);
  const first = maxFrame - CHUNK_FIRST_HEADER;
  yield encodeChunkFirst(channel, msgId, data.byteLength, data.subarray(0, first));
  const step = maxFrame - CHUNK_NEXT_HEADER;
  for (let at = first; at < data.byteLength; at += step) {
    yield encodeChunkNext(msgId, data.subarray(at, Math.min(at + step, data.byteLength)));
  }
}

interface Partial {
  channel: number;
  total: number;
  received: number;
  /** The bytes so far, at the start of a buffer that grows by doubling up to `total`. */
  buffer: Uint8Array;
}

/** The smallest buffer a partial message starts with (or its total, if smaller). */
const MIN_PARTIAL_BUFFER = 64 * 1024;

/** What one incoming chunk did. */
export type ChunkResult =
  | { kind: 'pending' }
  | { kind: 'complete'; channel: number; data: Uint8Array }
  | { kind: 'discarded' }
  | { kind: 'bad'; reason: string };

/**
 * Receive-side state for the chunked messages of one peer connection. Memory is bounded:
 * a stream announcing more than `maxMessageBytes` is refused up front, at most
 * `maxPartial` messages may be open at once, and each one's bytes are copied into one
 * buffer that doubles as they arrive: never more than twice what was received (plus
 * 64 KiB), however small the chunks (keeping each chunk as a view cost ~200 bytes of
 * objects per chunk, 200x the bytes for 1-byte chunks), and no allocation of an
 * untrusted `total` up front.
 */
export class Reassembler {
  #partial = new Map<number, Partial>();
  /** msgIds refused at CHUNK_FIRST whose later chunks are dropped quietly (one strike per stream). */
  #discarding = new Set<number>();

  constructor(
    private readonly maxMessageBytes: number,
    private readonly maxPartial = 8,
  ) {}

  /** Bytes held in partial messages. */
  get bufferedBytes(): number {
    let n = 0;
    for (const p of this.#partial.values()) n += p.received;
    return n;
  }

  first(channel: number, msgId: number, total: number, payload: Uint8Array): ChunkResult {
    this.#discarding.delete(msgId);
    if (this.#partial.has(msgId)) {
      this.#partial.delete(msgId);
      return this.#refuse(msgId, `chunk stream ${msgId} restarted before it completed`);
    }
    if (total > this.maxMessageBytes) return this.#refuse(msgId, `chunk stream of ${total} bytes over the ${this.maxMessageBytes}-byte limit`);
    if (payload.byteLength > total) return this.#refuse(msgId, `first chunk larger than its announced total ${total}`);
    if (this.#partial.size >= this.maxPartial) return this.#refuse(msgId, `more than ${this.maxPartial} chunked messages open at once`);
    const p: Partial = { channel, total, received: 0, buffer: new Uint8Array(Math.min(total, Math.max(MIN_PARTIAL_BUFFER, payload.byteLength))) };
    this.#partial.set(msgId, p);
    return this.#add(msgId, p, payload);
  }

  next(msgId: number, payload: Uint8Array): ChunkResult {
    const p = this.#partial.get(msgId);
    if (!p) {
      if (this.#discarding.has(msgId)) return { kind: 'discarded' };
      return { kind: 'bad', reason: `chunk for unknown message ${msgId}` };
    }
    return this.#add(msgId, p, payload);
  }

  /** Bytes of the buffers held for partial messages: at most about twice {@link bufferedBytes}. */
  get heldBytes(): number {
    let n = 0;
    for (const p of this.#partial.values()) n += p.buffer.byteLength;
    return n;
  }

  /** Forget every partial message (the connection is gone). */
  clear(): void {
    this.#partial.clear();
    this.#discarding.clear();
  }

  #add(msgId: number, p: Partial, payload: Uint8Array): ChunkResult {
    if (p.received + payload.byteLength > p.total) {
      this.#partial.delete(msgId);
      return this.#refuse(msgId, `chunk stream ${msgId} longer than its announced ${p.total} bytes`);
    }
    const end = p.received + payload.byteLength;
    if (end > p.buffer.byteLength) {
      const grown = new Uint8Array(Math.min(p.total, Math.max(end, 2 * p.buffer.byteLength)));
      grown.set(p.buffer.subarray(0, p.received));
      p.buffer = grown;
    }
    p.buffer.set(payload, p.received);
    p.received = end;
    if (p.received < p.total) return { kind: 'pending' };
    this.#partial.delete(msgId);
    return { kind: 'complete', channel: p.channel, data: p.buffer };
  }

  #refuse(msgId: number, reason: string): ChunkResult {
    this.#discarding.add(msgId);
    // Bounded: a peer cycling msgIds cannot grow this set without limit.
    if (this.#discarding.size > 64) this.#discarding.delete(this.#discarding.values().next().value!);
    return { kind: 'bad', reason };
  }
}
