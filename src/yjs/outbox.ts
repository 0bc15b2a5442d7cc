/**
 * What one provider still has to send to one peer. One message is in flight at a time;
 * while the channel is busy, document updates pile up and are merged (Y.mergeUpdates)
 * into a single message, and presence keeps only its latest state. So a fast typist
 * costs one message per peer per round trip of the channel, not one per keystroke. An
 * update made while the channel is idle leaves at once (inside the edit's own call), so
 * merging never adds latency; a synchronous burst becomes two messages: its first
 * update, then the rest merged.
 */
import * as Y from 'yjs';
import type { Clock, TimerHandle } from '../util/clock.js';
import { YjsTag, encodeUpdate } from './protocol.js';

/** Where an outbox sends: one peer on one channel. */
export interface OutboxSink {
  send(bytes: Uint8Array): Promise<void>;
  /** Bytes queued towards this peer on this channel, not yet handed to the data channel. */
  queuedBytes(): number;
}

/** Counters shared by a provider's outboxes. */
export interface OutboxStats {
  messages: number;
  bytes: number;
}

/** How often to look again when the channel has queued bytes but nothing of ours is in flight. */
const DRAIN_POLL_MS = 5;

/** The send queue of one peer; see the module comment. */
export class PeerOutbox {
  #control: Uint8Array[] = [];
  #updates: Uint8Array[] = [];
  /** The message of `#updates[0]` while it is the only update waiting, if the caller had it. */
  #encodedFirst: (() => Uint8Array) | undefined;
  #awareness: (() => Uint8Array | undefined) | undefined;
  #inFlight = false;
  #closed = false;
  #timer: TimerHandle | undefined;

  constructor(
    private readonly sink: OutboxSink,
    private readonly clock: Clock,
    private readonly stats: OutboxStats,
    private readonly onSendError: (err: unknown) => void,
  ) {}

  /** Queue a sync message (step 1 / step 2); these go out in order, unmerged. */
  control(message: Uint8Array): void {
    this.#control.push(message);
    this.#pump();
  }

  /**
   * Queue a document update; merged with any other update still waiting. `encoded`, when
   * given, returns the update's message ready to send, so a provider encodes one edit
   * once for all its peers instead of once per peer.
   */
  update(update: Uint8Array, encoded?: () => Uint8Array): void {
    this.#updates.push(update);
    this.#encodedFirst = this.#updates.length === 1 ? encoded : undefined;
    this.#pump();
  }

  /** Mark presence as changed; `encode` is called when it is actually sent, so only the latest state goes. */
  awareness(encode: () => Uint8Array | undefined): void {
    this.#awareness = encode;
    this.#pump();
  }

  /** True when nothing is waiting and nothing is in flight. */
  get idle(): boolean {
    return !this.#inFlight && this.#control.length === 0 && this.#updates.length === 0 && !this.#awareness;
  }

  /** Drop everything still queued; later calls do nothing. */
  close(): void {
    this.#closed = true;
    this.#control = [];
    this.#updates = [];
    this.#encodedFirst = undefined;
    this.#awareness = undefined;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
  }

  #pump(): void {
    if (this.#closed || this.#inFlight || this.#timer !== undefined) return;
    if (this.#control.length === 0 && this.#updates.length === 0 && !this.#awareness) return;
    if (this.sink.queuedBytes() > 0) {
      // Someone else's send on this channel is still draining; merge meanwhile.
      this.#timer = this.clock.setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, DRAIN_POLL_MS);
      return;
    }
    const message = this.#next();
    if (!message) return;
    this.#inFlight = true;
    this.stats.messages++;
    this.stats.bytes += message.length;
    let sending: Promise<void>;
    try {
      sending = this.sink.send(message);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.then(
      () => this.#sent(),
      (err: unknown) => {
        this.onSendError(err);
        this.#sent();
      },
    );
  }

  #sent(): void {
    this.#inFlight = false;
    this.#pump();
  }

  #next(): Uint8Array | undefined {
    const control = this.#control.shift();
    if (control) return control;
    if (this.#updates.length > 0) {
      const updates = this.#updates;
      const encoded = this.#encodedFirst;
      this.#updates = [];
      this.#encodedFirst = undefined;
      if (encoded) return encoded(); // set only while a single update waits
      return encodeUpdate(YjsTag.Update, updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates));
    }
    const encode = this.#awareness;
    this.#awareness = undefined;
    return encode?.();
  }
}
