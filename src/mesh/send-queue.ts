/**
 * The reliable send queue of one peer connection: messages are split into frames lazily
 * and handed to the transport while its reliable `bufferedAmount` is at or below the
 * high-water mark; above it the queue waits for the transport's `drain`. Nothing is
 * dropped or reordered; each message's promise resolves once its last frame is handed
 * over. Messages are sent one after another, so chunks of different messages never
 * interleave on the wire.
 */
import { MeshpartyError } from '../util/errors.js';
import type { PeerTransport } from '../transport/types.js';
import { messageFrames } from './chunking.js';
import { CHUNK_FIRST_HEADER, CHUNK_NEXT_HEADER, FrameKind, MSG_HEADER } from './frame.js';

interface Job {
  channel: number;
  data: Uint8Array;
  /** Payload bytes not yet handed to the transport. */
  remaining: number;
  frames: Generator<Uint8Array> | undefined;
  resolve: () => void;
  reject: (err: MeshpartyError) => void;
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
  #jobs: Job[] = [];
  #head = 0;
  #nextMsgId = 0;
  #queued = 0;
  #byChannel = new Map<number, number>();
  #pumping = false;
  #failed: MeshpartyError | undefined;

  constructor(
    private readonly transport: PeerTransport,
    private readonly options: SendQueueOptions,
  ) {}

  /** Queue a message; resolves when its last frame is handed to the transport. */
  enqueue(channel: number, data: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#queued > 0 && this.#queued + data.byteLength > this.options.maxQueuedBytes) {
      return Promise.reject(
        new MeshpartyError('queue-full', `send queue to ${this.transport.remoteId} holds ${this.#queued} bytes`, {
          peer: this.transport.remoteId,
          queuedBytes: this.#queued,
        }),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.#jobs.push({ channel, data, remaining: data.byteLength, frames: undefined, resolve, reject });
      this.#count(channel, data.byteLength);
      this.pump();
    });
  }

  /** Bytes waiting, in total or for one channel. */
  queuedBytes(channel?: number): number {
    return channel === undefined ? this.#queued : (this.#byChannel.get(channel) ?? 0);
  }

  /** Hand frames over until the transport is full or the queue is empty. */
  pump(): void {
    if (this.#pumping || this.#failed) return;
    this.#pumping = true;
    try {
      while (this.#head < this.#jobs.length) {
        if (this.transport.bufferedAmount('reliable') > this.options.highWaterMark) return; // `drain` calls pump again
        const job = this.#jobs[this.#head]!;
        job.frames ??= messageFrames(job.channel, this.#nextMsgId++ >>> 0, job.data, this.transport.maxMessageSize);
        const step = job.frames.next();
        if (!step.done) {
          try {
            this.transport.send('reliable', step.value);
          } catch (err) {
            this.options.onSendError(err);
            return;
          }
          const payload = step.value.byteLength - headerOf(step.value);
          job.remaining -= payload;
          this.#count(job.channel, -payload);
          // Every message yields at least one frame; once its bytes are all out it is done.
          if (job.remaining > 0) continue;
        }
        this.#jobs[this.#head++] = undefined as unknown as Job;
        this.#count(job.channel, -job.remaining);
        job.resolve();
        if (this.#head > 1024 && this.#head * 2 > this.#jobs.length) {
          this.#jobs = this.#jobs.slice(this.#head);
          this.#head = 0;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Reject everything queued (the connection is gone); later enqueues reject too. */
  fail(err: MeshpartyError): void {
    if (this.#failed) return;
    this.#failed = err;
    const pending = this.#jobs.slice(this.#head);
    this.#jobs = [];
    this.#head = 0;
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
