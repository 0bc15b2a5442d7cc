/**
 * The reliable send queue of one peer connection. Messages are split into frames lazily
 * and handed to the transport while its reliable `bufferedAmount` is at or below the
 * high-water mark; above it the queue waits for the transport's `drain`. Nothing is
 * dropped; each message's promise resolves once its last frame is handed over.
 *
 * Order: each channel is a FIFO (its messages arrive in the order sent). Channels take
 * turns frame by frame, so a chat line or a game's control message does not wait behind
 * a 64 MiB document on another channel; chunks of different channels' messages may
 * therefore interleave on the wire (receivers key partial messages by msgId). At most
 * {@link MAX_OPEN_STREAMS} chunked messages are in flight at once, matching the
 * receiver's bound.
 */
import { MeshpartyError } from '../util/errors.js';
import type { PeerTransport } from '../transport/types.js';
import { fitsOneFrame, messageFrames } from './chunking.js';
import { CHUNK_FIRST_HEADER, CHUNK_NEXT_HEADER, FrameKind, MSG_HEADER, encodeMsg } from './frame.js';

/** Chunked messages a sender interleaves at most (the receiver accepts 8). */
export const MAX_OPEN_STREAMS = 4;

interface Job {
  channel: number;
  data: Uint8Array;
  /** Payload bytes not yet handed to the transport. */
  remaining: number;
  frames: Generator<Uint8Array> | undefined;
  chunked: boolean;
  resolve: () => void;
  reject: (err: MeshpartyError) => void;
}

/** One channel's FIFO of messages. */
class Lane {
  jobs: Job[] = [];
  head = 0;

  get first(): Job | undefined {
    return this.jobs[this.head];
  }

  shift(): void {
    this.jobs[this.head++] = undefined as unknown as Job;
    if (this.head > 1024 && this.head * 2 > this.jobs.length) {
      this.jobs = this.jobs.slice(this.head);
      this.head = 0;
    }
  }

  get empty(): boolean {
    return this.head >= this.jobs.length;
  }
}

const headerOf = (frame: Uint8Array) =>
  frame[0] === FrameKind.chunkFirst ? CHUNK_FIRST_HEADER : frame[0] === FrameKind.chunkNext ? CHUNK_NEXT_HEADER : MSG_HEADER;

export interface SendQueueOptions {
  /** Stop handing frames over while the transport buffers more than this. */
  highWaterMark: number;
  /** Refuse new messages (`queue-full`) once this many bytes wait in the queue. */
  maxQueuedBytes: number;
  /** Called when the transport refuses a frame (the connection is then torn down). */
  onSendError: (err: unknown) => void;
}

export class SendQueue {
  /** Lanes with pending messages, in turn order (the next to send is first). */
  #turns: Lane[] = [];
  #lanes = new Map<number, Lane>();
  #nextMsgId = 0;
  #openStreams = 0;
  #queued = 0;
  #byChannel = new Map<number, number>();
  #pumping = false;
  #failed: MeshpartyError | undefined;
  #onIdle: (() => void) | undefined;

  constructor(
    private readonly transport: PeerTransport,
    private readonly options: SendQueueOptions,
  ) {}

  /**
   * Queue a message; resolves when its last frame is handed to the transport. A message
   * that has to wait is copied (unless `owned`: the caller already handed over a copy of
   * its own), so the caller may reuse `data` once this returns, as with a data channel's
   * `send()`: frames are cut from it as they go, and a buffer the app refilled meanwhile
   * reached the peer as another message's bytes.
   */
  enqueue(channel: number, data: Uint8Array, owned = false): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#queued > 0 && this.#queued + data.byteLength > this.options.maxQueuedBytes) {
      return Promise.reject(
        new MeshpartyError('queue-full', `send queue to ${this.transport.remoteId} holds ${this.#queued} bytes`, {
          peer: this.transport.remoteId,
          queuedBytes: this.#queued,
        }),
      );
    }
    // The common case, sent at once: nothing waits and the message fits one frame. No job,
    // lane or frame generator is made, which is most of an idle send's cost.
    const idle = this.#turns.length === 0 && !this.#pumping && this.transport.bufferedAmount('reliable') <= this.options.highWaterMark;
    if (idle && fitsOneFrame(data.byteLength, this.transport.maxMessageSize)) {
      try {
        this.transport.send('reliable', encodeMsg(channel, data));
        return Promise.resolve();
      } catch (err) {
        // Queued like any refused frame: the error handler tears the connection down and fail() rejects it.
        const queued = this.#queue(channel, data);
        this.options.onSendError(err);
        return queued;
      }
    }
    const queued = this.#queue(channel, owned ? data : data.slice());
    this.pump();
    return queued;
  }

  /** Put a message in its channel's lane; the caller pumps (or reports the refusal). */
  #queue(channel: number, data: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let lane = this.#lanes.get(channel);
      if (!lane) this.#lanes.set(channel, (lane = new Lane()));
      if (lane.empty) this.#turns.push(lane);
      const chunked = !fitsOneFrame(data.byteLength, this.transport.maxMessageSize);
      lane.jobs.push({ channel, data, remaining: data.byteLength, frames: undefined, chunked, resolve, reject });
      this.#count(channel, data.byteLength);
    });
  }

  /** Bytes waiting, in total or for one channel. */
  queuedBytes(channel?: number): number {
    return channel === undefined ? this.#queued : (this.#byChannel.get(channel) ?? 0);
  }

  /** Messages not yet wholly handed to the transport. */
  get queuedMessages(): number {
    let n = 0;
    for (const lane of this.#turns) n += lane.jobs.length - lane.head;
    return n;
  }

  /** True when every message has been handed to the transport (what follows goes out after them). */
  get idle(): boolean {
    return this.#turns.length === 0;
  }

  /**
   * Call `fn` (once) as soon as the queue is idle: at once if it is now, else from the
   * pump that hands over the last frame, so a frame the caller sends then follows every
   * queued one on the wire. Replaces an earlier `fn`; never called once the queue failed.
   */
  whenIdle(fn: () => void): void {
    if (this.#failed) return;
    if (this.idle) return fn();
    this.#onIdle = fn;
  }

  /** Hand frames over, one per channel in turn, until the transport is full or the queue is empty. */
  pump(): void {
    if (this.#pumping || this.#failed) return;
    this.#pumping = true;
    try {
      let skipped = 0;
      while (this.#turns.length > 0 && skipped < this.#turns.length) {
        if (this.transport.bufferedAmount('reliable') > this.options.highWaterMark) return; // `drain` calls pump again
        const lane = this.#turns.shift()!;
        const job = lane.first!;
        if (!job.frames) {
          // A new chunked message waits while enough streams are open; single frames never wait.
          if (job.chunked && this.#openStreams >= MAX_OPEN_STREAMS) {
            this.#turns.push(lane);
            skipped++;
            continue;
          }
          if (job.chunked) this.#openStreams++;
          job.frames = messageFrames(job.channel, this.#nextMsgId++ >>> 0, job.data, this.transport.maxMessageSize);
        }
        skipped = 0;
        const step = job.frames.next();
        if (!step.done) {
          try {
            this.transport.send('reliable', step.value);
          } catch (err) {
            this.#turns.unshift(lane);
            this.options.onSendError(err);
            return;
          }
          const payload = step.value.byteLength - headerOf(step.value);
          job.remaining -= payload;
          this.#count(job.channel, -payload);
        }
        // Every message yields at least one frame; once its bytes are all out it is done.
        if (step.done || job.remaining <= 0) {
          lane.shift();
          if (job.chunked) this.#openStreams--;
          this.#count(job.channel, -job.remaining);
          job.resolve();
        }
        if (!lane.empty) this.#turns.push(lane);
      }
    } finally {
      this.#pumping = false;
    }
    const idle = this.#onIdle;
    if (idle && this.idle && !this.#failed) {
      this.#onIdle = undefined;
      idle();
    }
  }

  /** Reject everything queued (the connection is gone); later enqueues reject too. */
  fail(err: MeshpartyError): void {
    if (this.#failed) return;
    this.#failed = err;
    this.#onIdle = undefined;
    const pending = this.#turns.flatMap((lane) => lane.jobs.slice(lane.head));
    this.#turns = [];
    this.#lanes.clear();
    this.#queued = 0;
    this.#byChannel.clear();
    for (const job of pending) job.reject(err);
  }

  #count(channel: number, delta: number): void {
    this.#queued += delta;
    const n = (this.#byChannel.get(channel) ?? 0) + delta;
    if (n > 0) this.#byChannel.set(channel, n);
    else this.#byChannel.delete(channel);
  }
}
