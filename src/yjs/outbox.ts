/**
 * What one provider still has to send to one peer. One message is in flight at a time;
 * while the channel is busy, document updates pile up and are merged (Y.mergeUpdates)
 * into a single message, and presence keeps only its latest state. So a fast typist
 * costs one message per peer per round trip of the channel, not one per keystroke. An
 * update made while the channel is idle leaves at once (inside the edit's own call), so
 * merging never adds latency; a synchronous burst becomes two messages: its first
 * update, then the rest merged.
 *
 * A send refused for now (`queue-full`: the peer's connection queue is at its bound) is
 * kept and tried again after a backoff: a sync message goes back to the front of the
 * sync messages, a refused update is merged back into the updates waiting (Yjs updates
 * commute, so sending it together with later edits loses nothing), presence is
 * re-marked unless a newer state waits. An update merged from several that is refused
 * as too large is split: its parts go back, and later messages merge fewer of them (half
 * as many per such refusal, until the backlog is sent), so merging never loses an edit
 * that would have fitted alone. Any other refusal is final for that message (one update
 * too large by itself, or the connection is gone, when a new connection's sync covers it)
 * and is reported, never dropped silently.
 *
 * Other peers' updates we pass on (forwarding.ts) wait in a queue of their own, merged
 * only with each other (and split by their own limit) and sent as `forwardedUpdate`, so
 * the receiver never passes them on again; forwarded presence is a keyed sync message (the
 * latest per sender and set of clients waits, at most MAX_FORWARDED_PRESENCE_PER_SENDER per sender).
 */
import * as Y from 'yjs';
import type { Clock, TimerHandle } from '../util/clock.js';
import { MeshpartyError } from '../util/errors.js';
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
  /** Of `messages`, those passing on another peer's edits or presence (counted when present). */
  forwarded?: number;
}

/** What a message carries: a sync step (1 or 2), document updates, or presence. */
export type OutboxMessageKind = 'sync' | 'update' | 'presence';

/** A refused send: `retryInMs` when it is kept and tried again, absent when it was given up. */
export interface OutboxFailure {
  error: MeshpartyError;
  kind: OutboxMessageKind;
  retryInMs?: number;
}

/** How often to look again when the channel has queued bytes but nothing of ours is in flight. */
const DRAIN_POLL_MS = 5;
/** First wait after a refusal that may pass; doubled per refusal in a row, up to the cap. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2000;
/** Error codes that mean "not now" rather than "never": the message is kept. */
const RETRYABLE = new Set(['queue-full']);
/** Forwarded presence messages of one sender (each about another set of its clients) waiting at most. */
export const MAX_FORWARDED_PRESENCE_PER_SENDER = 8;
/** How long a closing outbox ({@link PeerOutbox.drainAndClose}) keeps retrying refusals that may pass. */
export const DRAIN_FOR_MS = 5 * 60_000;

/** The message in flight and what it was made of, to put back if it is refused for now. */
type InFlight =
  | { kind: 'sync'; message: Uint8Array; forwarded?: undefined }
  | { kind: 'presence'; message: Uint8Array; forwarded: true } // another peer's, passed on
  | { kind: 'update'; parts: Uint8Array[]; forwarded?: boolean }
  | { kind: 'presence'; encode: () => Uint8Array | undefined; forwarded?: undefined };

/** The send queue of one peer; see the module comment. */
export class PeerOutbox {
  /** Sync messages, in order; a function is encoded only when its turn to be sent comes. */
  #control: Array<{ message: Uint8Array | (() => Uint8Array); key?: string; forwarded?: boolean; group?: string }> = [];
  #updates: Uint8Array[] = [];
  /** Other peers' updates to pass on, merged only with each other. */
  #forwards: Uint8Array[] = [];
  /** The message of `#updates[0]` while it is the only update waiting, if the caller had it. */
  #encodedFirst: (() => Uint8Array) | undefined;
  #awareness: (() => Uint8Array | undefined) | undefined;
  /** The presence removal a closing outbox still sends (drainAndClose). */
  #goodbye: (() => Uint8Array) | undefined;
  /** Messages handed to the sink and not yet settled: one at most, unless draining. */
  #inFlight = 0;
  #closed = false;
  /** Closing once what is queued is sent (drainAndClose). */
  #draining = false;
  #drainUntil = 0;
  #timer: TimerHandle | undefined;
  /** `#timer` only polls for another sender's bytes on the channel (no refusal's backoff). */
  #polling = false;
  /** Refusals in a row that were kept for a retry (0 after any send goes through). */
  #refusals = 0;
  /**
   * Updates merged into one message at most, per queue, after a merged one of that queue
   * was too large (until that queue's backlog is sent). Apart, as one queue's refusal says
   * nothing of the other's sizes: a shared limit held our own edits back for a forwarded
   * backlog, and lifted it for that backlog when our own went out, so it was merged too
   * large, refused and split again.
   */
  #mergeAtMost = { own: Infinity, forwarded: Infinity };

  /** `onFailure` hears of every message given up, and of the first retry in a row of refusals. */
  constructor(
    private readonly sink: OutboxSink,
    private readonly clock: Clock,
    private readonly stats: OutboxStats,
    private readonly onFailure: (failure: OutboxFailure) => void,
  ) {}

  /**
   * Queue a sync message (step 1 / step 2); these go out in order, unmerged. One with a
   * `key` replaces a message of the same key still waiting, in its place: a peer that
   * sends hello after hello gets one answer, not a copy of the document per hello. Pass
   * a function to encode the message only when it is sent (a step 2 is a copy of the
   * document: a flood of hellos must not make us encode one per hello).
   */
  control(message: Uint8Array | (() => Uint8Array), key?: string): void {
    this.#queueControl(message, key);
  }

  /**
   * Queue a document update; merged with any other update still waiting. `encoded`, when
   * given, returns the update's message ready to send, so a provider encodes one edit
   * once for all its peers instead of once per peer.
   */
  update(update: Uint8Array, encoded?: () => Uint8Array): void {
    if (this.#draining) return;
    this.#updates.push(update);
    this.#encodedFirst = this.#updates.length === 1 ? encoded : undefined;
    this.#pump();
  }

  /** Queue another peer's update to pass on (sent as `forwardedUpdate`, merged with other such). */
  forwardUpdate(update: Uint8Array): void {
    if (this.#draining) return;
    this.#forwards.push(update);
    this.#pump();
  }

  /**
   * Queue another peer's presence message (`forwardedAwareness`) to pass on; one of the
   * same `key` (its sender and the clients it is about) still waiting is replaced, so
   * only the latest goes.
   */
  forwardPresence(message: Uint8Array, key: string, sender: string): void {
    // Bounded per sender: each set of clients has a key of its own, and a hostile peer that
    // keeps making clients and removing them would otherwise grow this queue for as long as
    // the target's channel is backed up. Past the bound its oldest waiting one goes (at worst
    // a presence the target then times out, as y-protocols does after 30 s).
    const group = `${sender}\u0000`;
    const waiting = this.#control.filter((c) => c.forwarded && c.group === group && c.key !== key);
    if (waiting.length >= MAX_FORWARDED_PRESENCE_PER_SENDER) this.#control.splice(this.#control.indexOf(waiting[0]!), 1);
    this.#queueControl(message, key, true, group);
  }

  /** Queue a message among the sync messages, in place of a waiting one of the same `key`. */
  #queueControl(message: Uint8Array | (() => Uint8Array), key: string | undefined, forwarded?: true, group?: string): void {
    if (this.#draining) return;
    const waiting = key === undefined ? undefined : this.#control.find((c) => c.key === key);
    if (waiting) waiting.message = message;
    else this.#control.push(forwarded ? { message, key, forwarded, group } : { message, key });
    this.#pump();
  }

  /** Mark presence as changed; `encode` is called when it is actually sent, so only the latest state goes. */
  awareness(encode: () => Uint8Array | undefined): void {
    if (this.#draining) return;
    this.#awareness = encode;
    this.#pump();
  }

  /** True when nothing is waiting and nothing is in flight. */
  get idle(): boolean {
    return !this.#inFlight && this.#nothingWaiting();
  }

  /**
   * Take nothing new, send what is still queued of the document (sync answers and
   * updates, the message in flight too if it is refused for now), then close. For a
   * provider that stops while its peer stays: edits typed just before would otherwise be
   * dropped with the queue, and the peer would not see them until this document is opened
   * here again. A refusal that may pass (`queue-full`: another channel fills the peer's
   * queue) is retried as usual, for up to {@link DRAIN_FOR_MS}; then, or on a final
   * refusal, the message is given up and reported. Step 1s and presence are dropped:
   * nobody is left to apply their answers. `goodbye`, our presence removed, goes last and
   * is retried like the rest: refused and dropped, it left our stale presence at the peer
   * until it left the room, its clock hiding the presence of a provider opened again.
   */
  drainAndClose(goodbye?: Uint8Array): void {
    if (this.#closed || this.#draining) return;
    this.#draining = true;
    this.#drainUntil = this.clock.now() + DRAIN_FOR_MS;
    // (A message still to be encoded is an answer, a step 2: kept.)
    this.#control = this.#control.filter((c) => !c.forwarded && (typeof c.message === 'function' || c.message[0] !== YjsTag.SyncStep1));
    this.#goodbye = goodbye && (() => goodbye);
    this.#awareness = this.#goodbye;
    if (this.#inFlight === 0 && this.#nothingWaiting()) return this.close(); // and its retry timer
    // Waiting for another sender's bytes (this document's provider destroyed before, still
    // draining) must not hold ours back now: room.leave() closes the room right after its
    // `leaving`, and the sink keeps order behind those bytes anyway.
    if (this.#polling) this.#stopTimer();
    this.#pump();
  }

  /** Drop everything still queued and stop any timer; later calls do nothing. */
  close(): void {
    this.#closed = true;
    this.#draining = false;
    this.#control = [];
    this.#updates = [];
    this.#forwards = [];
    this.#encodedFirst = undefined;
    this.#awareness = undefined;
    this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#polling = false;
  }

  #pump(): void {
    if (this.#draining) return this.#pumpAll();
    if (this.#closed || this.#inFlight > 0 || this.#timer !== undefined) return;
    if (this.#nothingWaiting()) return;
    // Someone else's send on this channel is still draining; merge meanwhile.
    if (this.sink.queuedBytes() > 0) return this.#wait(DRAIN_POLL_MS, true);
    const next = this.#next();
    if (next) this.#send(next); // (none when only presence was left, with nothing to say)
  }

  /**
   * Draining: hand everything queued to the sink at once, behind any message in flight
   * (the sink keeps order), so a room left right after still carries it; close once all
   * has gone. Refusals come back through #refused and wait for the retry timer.
   */
  #pumpAll(): void {
    if (this.#closed || this.#timer !== undefined) return;
    for (let next = this.#next(); next; next = this.#next()) this.#send(next);
    if (this.#inFlight === 0 && this.#nothingWaiting()) this.close(); // all sent
  }

  #send({ flight, message }: { flight: InFlight; message: Uint8Array }): void {
    this.#inFlight++;
    this.stats.messages++;
    this.stats.bytes += message.length;
    if (flight.forwarded && this.stats.forwarded !== undefined) this.stats.forwarded++;
    let sending: Promise<void>;
    try {
      sending = this.sink.send(message);
    } catch (err) {
      sending = Promise.reject(err);
    }
    sending.then(
      () => {
        this.#refusals = 0;
        this.#done();
      },
      (err: unknown) => this.#refused(flight, err),
    );
  }

  #done(): void {
    this.#inFlight--;
    this.#pump();
  }

  #refused(flight: InFlight, err: unknown): void {
    this.#inFlight--;
    if (this.#closed) return; // the peer is gone or the provider destroyed: nothing to report
    const error = err instanceof MeshpartyError ? err : new MeshpartyError('send-failed', String(err));
    if (error.code === 'message-too-large' && flight.kind === 'update' && flight.parts.length > 1) {
      // Too large only because we merged it: each part may fit. Merging lost nothing yet,
      // but a dropped update would hold back every later edit of ours at that peer (Yjs
      // applies a client's structs in order) until it reconnects.
      this.#mergeAtMost[flight.forwarded ? 'forwarded' : 'own'] = Math.ceil(flight.parts.length / 2);
      this.#putBack(flight);
      return this.#pump();
    }
    if (!RETRYABLE.has(error.code) || (this.#draining && this.clock.now() >= this.#drainUntil)) {
      // Not the goodbye: once its connection is gone the peer drops our presence anyway,
      // and destroy() then room.leave() would log a failure per peer.
      if (!('encode' in flight) || flight.encode !== this.#goodbye) this.onFailure({ error, kind: flight.kind });
      return this.#pump();
    }
    this.#putBack(flight);
    const retryInMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#refusals);
    if (this.#refusals++ === 0) this.onFailure({ error, kind: flight.kind, retryInMs });
    this.#wait(retryInMs);
  }

  /** Queue a refused message again where it keeps its order. */
  #putBack(flight: InFlight): void {
    if ('message' in flight) {
      if (this.#draining && (flight.forwarded || flight.message[0] === YjsTag.SyncStep1)) return; // nobody will apply an answer
      // First again: sync messages stay in order (a step 2 before the recheck that follows it).
      this.#control.unshift({ message: flight.message, forwarded: flight.forwarded });
    } else if (flight.kind === 'update') {
      // Merged with whatever was typed meanwhile; order among updates does not matter to Yjs.
      // The parts, not their merge, so a merge that is too large can still be split.
      if (flight.forwarded) this.#forwards.unshift(...flight.parts);
      else this.#updates.unshift(...flight.parts);
      this.#encodedFirst = undefined;
    } else if (!this.#draining || flight.encode === this.#goodbye) {
      this.#awareness ??= flight.encode; // a newer state waiting replaces it anyway
    }
  }

  #nothingWaiting(): boolean {
    return this.#control.length === 0 && this.#updates.length === 0 && this.#forwards.length === 0 && !this.#awareness;
  }

  #wait(ms: number, poll = false): void {
    if (this.#timer !== undefined) return; // (draining: one timer for all refused meanwhile)
    this.#polling = poll;
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#polling = false;
      this.#pump();
    }, ms);
  }

  /** The next message to send, with what it was made of. */
  #next(): { flight: InFlight; message: Uint8Array } | undefined {
    const entry = this.#control.shift();
    const control = typeof entry?.message === 'function' ? entry.message() : entry?.message;
    if (control) {
      const flight: InFlight = entry?.forwarded ? { kind: 'presence', message: control, forwarded: true } : { kind: 'sync', message: control };
      return { flight, message: control };
    }
    if (this.#updates.length > 0) {
      const parts = this.#updates.splice(0, this.#mergeAtMost.own);
      if (this.#updates.length === 0) this.#mergeAtMost.own = Infinity; // the backlog is out: merge freely again
      const encoded = this.#encodedFirst; // set only while a single update waits
      this.#encodedFirst = undefined;
      const update = parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts);
      return { flight: { kind: 'update', parts }, message: encoded ? encoded() : encodeUpdate(YjsTag.Update, update) };
    }
    if (this.#forwards.length > 0) {
      const parts = this.#forwards.splice(0, this.#mergeAtMost.forwarded);
      if (this.#forwards.length === 0) this.#mergeAtMost.forwarded = Infinity;
      const update = parts.length === 1 ? parts[0]! : Y.mergeUpdates(parts);
      return { flight: { kind: 'update', parts, forwarded: true }, message: encodeUpdate(YjsTag.ForwardedUpdate, update) };
    }
    const encode = this.#awareness;
    this.#awareness = undefined;
    const message = encode?.();
    return encode && message ? { flight: { kind: 'presence', encode }, message } : undefined;
  }
}
