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
  parts: Uint8Array[];
}

/** What one incoming chunk did. */
export type ChunkResult =
  | { kind: 'pending' }
  | { kind: 'complete'; channel: number; data: Uint8Array }
  | { kind: 'discarded' }
  | { kind: 'bad'; reason: string };

/**
 * Receive-side state for the chunked messages of one peer connection. Memory is bounded:
 * a stream announcing more than `maxMessageBytes` is refused up front, at most
 * `maxPartial` messages may be open at once, and parts are kept as views (no
 * preallocation from an untrusted `total`).
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
    const p: Partial = { channel, total, received: 0, parts: [] };
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
    if (payload.byteLength > 0) p.parts.push(payload);
    p.received += payload.byteLength;
    if (p.received < p.total) return { kind: 'pending' };
    this.#partial.delete(msgId);
    return { kind: 'complete', channel: p.channel, data: concat(p.parts, p.total) };
  }

  #refuse(msgId: number, reason: string): ChunkResult {
    this.#discarding.add(msgId);
    // Bounded: a peer cycling msgIds cannot grow this set without limit.
    if (this.#discarding.size > 64) this.#discarding.delete(this.#discarding.values().next().value!);
    return { kind: 'bad', reason };
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
