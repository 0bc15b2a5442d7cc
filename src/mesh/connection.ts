/**
 * One live connection attempt to one remote peer: its transport, reliable send queue,
 * chunk reassembly and heartbeat bookkeeping. The mesh owns the policy (who connects,
 * when to retry, which channel gets a message); this class only speaks the frame
 * protocol over one transport and reports what happened through its hooks.
 */
import type { Clock, TimerHandle } from '../util/clock.js';
import { MeshpartyError } from '../util/errors.js';
import { fnv1a32Chars } from '../util/fnv1a.js';
import type { PeerTransport } from '../transport/types.js';
import { Reassembler, fitsOneFrame } from './chunking.js';
import { decodeFrame, encodeBye, encodeHeartbeat, encodeMsg } from './frame.js';
import { SendQueue } from './send-queue.js';
import type { Reliability } from './types.js';

export interface ConnectionHooks {
  onSignal(conn: Connection, data: unknown): void;
  onOpen(conn: Connection): void;
  /** The transport closed (remote, failure, or timeout); not called after dispose(). */
  onGone(conn: Connection, reason: string): void;
  onMessage(conn: Connection, channel: number, reliability: Reliability, data: Uint8Array): void;
  onRtt(conn: Connection, sampleMs: number): void;
  onBye(conn: Connection): void;
  /** A malformed frame was dropped. */
  onBad(conn: Connection, reason: string): void;
  onTransportError(conn: Connection, err: MeshpartyError): void;
}

export interface ConnectionOptions {
  clock: Clock;
  maxMessageBytes: number;
  /** Bytes the transport may buffer before the queue waits for `drain` (default: see #highWaterMark). */
  highWaterMark?: number;
  maxQueuedBytes: number;
}

/** Where in each heartbeat interval pings to `remoteId` go: FNV-1a of the id, spread over [0, intervalMs). */
export function heartbeatPhase(remoteId: string, intervalMs: number): number {
  return Math.floor((fnv1a32Chars(remoteId) / 2 ** 32) * intervalMs);
}

/**
 * When both ends of a connection leave together, how long the end that does not close
 * first waits for the other's close before closing itself (see `farewell`).
 */
export const BOTH_LEAVING_WAIT_MS = 200;

/** What a {@link Connection.farewell} could not deliver: messages still queued when its drain time ran out. */
export interface FarewellResult {
  droppedMessages: number;
  /** Their bytes not yet handed to the transport. */
  droppedBytes: number;
}

/** Bounds on frames held before `open` (a well-behaved remote sends a few at most). */
const MAX_EARLY_FRAMES = 256;
const MAX_EARLY_BYTES = 8 << 20;

export class Connection {
  isOpen = false;
  wasOpen = false;
  /**
   * Signaling said the peer left and then that it joined again while this connection
   * stayed open: the peer may have restarted under the same id, and this connection may
   * be its previous process's. A BYE on it then says that process left, not its successor.
   */
  announcedAgain = false;
  /** A signal of this session came from the remote (for the initiator: the answer has come). */
  heardSignal = false;
  /** Clock time of the last frame received (any frame counts as a sign of life). */
  lastHeard = 0;
  queue: SendQueue | undefined;
  #reassembler: Reassembler;
  #offs: Array<() => void> = [];
  #pingSeq = 0;
  #disposed = false;
  /** farewell() is under way: the queue drains, then BYE, then the transport closes. */
  #leaving = false;
  /** The heartbeat ping waiting for this connection's turn in the interval (see heartbeat()). */
  #heartbeatTimer: TimerHandle | undefined;
  /**
   * Frames that arrived before this side saw `open`: the remote may see both channels
   * open first and start sending. Held (bounded) and delivered right after `onOpen`, so
   * the app always hears `peer-joined` before that peer's first message.
   */
  #early: Array<{ reliability: Reliability; data: Uint8Array }> = [];
  #earlyBytes = 0;

  constructor(
    readonly transport: PeerTransport,
    readonly session: string,
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {
    this.#reassembler = new Reassembler(options.maxMessageBytes);
    const t = transport;
    this.#offs.push(
      t.on('signal', (data) => !this.#disposed && hooks.onSignal(this, data)),
      t.on('open', () => this.#onOpen()),
      t.on('frame', ({ reliability, data }) => this.#onFrame(reliability, data)),
      t.on('drain', ({ reliability }) => reliability === 'reliable' && this.queue?.pump()),
      t.on('error', (err) => !this.#disposed && hooks.onTransportError(this, err)),
      t.on('close', ({ reason }) => {
        if (this.#disposed) return;
        this.#dispose(new MeshpartyError('peer-left', `connection to ${t.remoteId} closed: ${reason}`));
        hooks.onGone(this, reason);
      }),
    );
  }

  get remoteId(): string {
    return this.transport.remoteId;
  }

  /**
   * Send one message (already checked against maxMessageBytes by the mesh). The caller may
   * reuse `data` once this returns (`owned`: it is a copy nobody else changes; see
   * SendQueue.enqueue).
   */
  send(reliability: Reliability, channel: number, data: Uint8Array, owned = false): Promise<void> {
    if (!this.isOpen || !this.queue) return Promise.reject(new MeshpartyError('unknown-peer', `no open connection to ${this.remoteId}`));
    if (reliability === 'reliable') return this.queue.enqueue(channel, data, owned);
    if (!fitsOneFrame(data.byteLength, this.transport.maxMessageSize)) {
      return Promise.reject(
        new MeshpartyError('message-too-large', `unreliable message of ${data.byteLength} bytes does not fit one ${this.transport.maxMessageSize}-byte frame`, {
          bytes: data.byteLength,
          maxFrame: this.transport.maxMessageSize,
        }),
      );
    }
    // Unreliable data may be dropped: when the channel is backed up, newer inputs matter more.
    if (this.transport.bufferedAmount('unreliable') > this.#highWaterMark()) return Promise.resolve();
    try {
      this.transport.send('unreliable', encodeMsg(channel, data));
    } catch {
      // A failing transport reports itself through `error`/`close`; an unreliable send may be lost.
    }
    return Promise.resolve();
  }

  /** Send a ping now (a probe, or the first RTT sample when the connection opens). */
  ping(now: number): void {
    this.#sendControl(encodeHeartbeat('ping', this.#pingSeq++, now));
  }

  /**
   * The routine heartbeat of one interval: a ping sent at this connection's own point in
   * the interval rather than at the tick. A mesh ticks all its connections at once; sent
   * there, 15 pings are 15 blocking data-channel sends in one burst (about 1 ms each on a
   * loaded machine with @roamhq/wrtc), and a frame that arrives during the burst waits
   * for all of it. Spread out, a frame waits for one send at most. The point (a hash of
   * the remote id) stays the same every interval, so pings stay `intervalMs` apart.
   */
  heartbeat(intervalMs: number): void {
    if (!this.isOpen || this.#heartbeatTimer !== undefined) return;
    const clock = this.options.clock;
    this.#heartbeatTimer = clock.setTimeout(() => {
      this.#heartbeatTimer = undefined;
      this.ping(clock.now());
    }, heartbeatPhase(this.remoteId, intervalMs));
  }

  /**
   * Leave on purpose: hand over what is still queued, send BYE, and let the remote close
   * the connection, destroying the transport ourselves only after `timeoutMs`. Resolves
   * when the transport is gone, with what had to be dropped.
   *
   * First the queue drains: messages sent before leave() that wait behind backpressure
   * (a large Yjs update, a chat line after a paste) go out, for at most `drainMs`; BYE
   * follows the last of their frames on the reliable channel, so the remote has all of
   * them before it learns we left. Nothing new is taken meanwhile and what arrives is
   * ignored (the app has left). What is still queued at `drainMs` is dropped, its
   * promises rejected with `drain-timeout`, and counted in the result. A remote that says
   * BYE itself meanwhile is leaving too and takes no more messages: the queue is given up
   * then (rejected with `peer-left`, as when any peer leaves; not counted).
   *
   * Why the remote closes: the side that closes first makes the other side's WebRTC stack
   * tear the channel down on its own thread while that side's code may still be sending
   * on it, and @roamhq/wrtc crashes the process (SIGSEGV in `RTCDataChannel::Send`) when
   * that race is lost. The remote closes from its own code on BYE (see peer-lifecycle
   * `onBye`), after which it no longer sends; and we send nothing after BYE. When the
   * remote is leaving too (its BYE arrives while we wait), one side still closes first:
   * the one with `closesFirst` (the mesh picks one end of each pair), at once, the other
   * when that close reaches it or after BOTH_LEAVING_WAIT_MS (at most `timeoutMs`).
   * `timeoutMs` 0 closes at once after BYE (the queue still drains first). Otherwise,
   * while the transport still buffers frames at BYE (the drained messages' last bytes on
   * a slow link), the wait for the remote's close is at least what is left of `drainMs`:
   * closing first would cut them off.
   * Does not report `onGone` (the mesh already knows).
   */
  farewell(timeoutMs: number, closesFirst = true, drainMs = 0): Promise<FarewellResult> {
    const nothingDropped: FarewellResult = { droppedMessages: 0, droppedBytes: 0 };
    const disposeClosed = () => this.#dispose(new MeshpartyError('peer-left', `connection to ${this.remoteId} closed: closed`));
    if (this.#disposed || this.#leaving) return Promise.resolve(nothingDropped);
    const t = this.transport;
    const queue = this.queue;
    if (!this.isOpen || !queue) {
      disposeClosed();
      t.destroy();
      return Promise.resolve(nothingDropped);
    }
    // From here send() refuses, incoming frames are ignored (pings answered) and dispose()
    // leaves the connection to this farewell; the queue still pumps on `drain`.
    this.#leaving = true;
    this.isOpen = false;
    this.#stopHeartbeat();
    const clock = this.options.clock;
    const drainUntil = clock.now() + drainMs;
    const result = { ...nothingDropped };
    return new Promise((done) => {
      let saidBye = false;
      let timer: TimerHandle | undefined;
      const setTimer = (fn: () => void, ms: number) => {
        if (timer !== undefined) clock.clearTimeout(timer);
        timer = clock.setTimeout(fn, ms);
      };
      const finish = () => {
        offClose();
        offFrame();
        if (timer !== undefined) clock.clearTimeout(timer);
        // A close during the drain (the remote failed or closed): the queue goes with it.
        if (!this.#disposed) disposeClosed();
        done(result);
      };
      const closeNow = () => {
        t.destroy();
        finish();
      };
      const sayBye = (remoteLeaving: boolean) => {
        if (saidBye) return;
        saidBye = true;
        // Measured before BYE adds its own bytes: frames of drained messages still on their way.
        const buffered = t.bufferedAmount('reliable') > 0;
        this.#sendControl(encodeBye()); // its failure closes the transport, which ends this farewell
        disposeClosed();
        // The remote leaving too: see below (one end closes first). Else wait for its close.
        if (remoteLeaving) return onRemoteBye();
        if (timeoutMs <= 0) return closeNow();
        const wait = buffered ? Math.max(timeoutMs, drainUntil - clock.now()) : timeoutMs;
        setTimer(closeNow, wait);
      };
      // The remote is leaving too (peers often leave together): it has said BYE, so it
      // sends nothing more, and one of us may close at once instead of both waiting out
      // the timeout. Only one: two ends closing at the same moment is again a close from
      // the remote racing a local one, which node-datachannel can lose (see its adapter).
      // The other end gives that close BOTH_LEAVING_WAIT_MS to arrive: a process that
      // exits right after leave() may take its close with it (seen with @roamhq/wrtc).
      // A task later, not inside the engine's message callback.
      const onRemoteBye = () => setTimer(closeNow, closesFirst ? 0 : Math.min(timeoutMs, BOTH_LEAVING_WAIT_MS));
      const offClose = t.on('close', finish);
      const offFrame = t.on('frame', ({ data }) => {
        if (decodeFrame(data).kind !== 'bye') return;
        if (saidBye) return onRemoteBye();
        // It left: nothing we still hold would reach its app. Given up like any send to a leaver.
        queue.fail(new MeshpartyError('peer-left', `peer ${this.remoteId} left`, { peer: this.remoteId }));
        sayBye(true);
      });
      const dropQueued = () => {
        result.droppedMessages = queue.queuedMessages;
        result.droppedBytes = queue.queuedBytes();
        queue.fail(
          new MeshpartyError('drain-timeout', `left before this message was sent to ${this.remoteId}: still queued ${drainMs} ms after leave()`, {
            peer: this.remoteId,
            drainMs,
          }),
        );
        sayBye(false);
      };
      if (queue.idle) return sayBye(false);
      // 0: dropped at once, the goodbye within this call, as before the drain existed.
      if (drainMs <= 0) return dropQueued();
      setTimer(dropQueued, drainMs);
      queue.whenIdle(() => sayBye(false));
    });
  }

  /** Tear down without reporting `onGone` (the mesh already knows). Idempotent. */
  dispose(reason: string, err?: MeshpartyError): void {
    // A farewell under way ends the connection itself (the mesh drops it from the room at once).
    if (this.#disposed || this.#leaving) return;
    this.#dispose(new MeshpartyError('peer-left', `connection to ${this.remoteId} closed: ${reason}`));
    this.transport.destroy(err);
  }

  #dispose(err: MeshpartyError): void {
    this.#disposed = true;
    this.isOpen = false;
    this.#stopHeartbeat();
    this.queue?.fail(err);
    this.#reassembler.clear();
    this.#early = [];
    for (const off of this.#offs) off();
    this.#offs = [];
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer !== undefined) this.options.clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  #highWaterMark(): number {
    // 1 MiB floor: with @roamhq/wrtc a 512 KiB window left a 64 MiB transfer well short of
    // raw data-channel speed; the cost is that a control message may wait ~20 ms behind bulk data.
    // Never below the transport's low-water mark: the queue waits for `drain`, which
    // fires only once the buffer has been above that mark, so a buffer stuck between
    // the two would stall the queue for good.
    const chosen = this.options.highWaterMark ?? Math.max(1 << 20, 4 * this.transport.maxMessageSize, 2 * this.transport.lowWaterMark);
    return Math.max(chosen, this.transport.lowWaterMark);
  }

  #onOpen(): void {
    if (this.#disposed || this.isOpen) return;
    this.isOpen = this.wasOpen = true;
    this.lastHeard = this.options.clock.now();
    this.queue = new SendQueue(this.transport, {
      highWaterMark: this.#highWaterMark(),
      maxQueuedBytes: this.options.maxQueuedBytes,
      onSendError: (err) => {
        const e = err instanceof MeshpartyError ? err : new MeshpartyError('send-failed', String(err));
        this.hooks.onTransportError(this, e);
        this.transport.destroy(e);
      },
    });
    this.hooks.onOpen(this);
    const early = this.#early;
    this.#early = [];
    this.#earlyBytes = 0;
    for (const f of early) this.#onFrame(f.reliability, f.data);
  }

  /** Heartbeats and goodbyes skip the queue: they are single tiny frames and must not wait behind bulk data. */
  #sendControl(frame: Uint8Array): void {
    if (!this.isOpen && !(this.#leaving && !this.#disposed)) return;
    try {
      this.transport.send('reliable', frame);
    } catch {
      // The transport reports its own failure; a lost heartbeat is what timeouts are for.
    }
  }

  #onFrame(reliability: Reliability, data: Uint8Array): void {
    if (this.#disposed) return;
    if (this.#leaving) {
      // The app has left; farewell watches for the remote's BYE. Pings are still answered
      // until ours goes: a remote told by the relay that we left probes us, and would cut
      // the connection while the queue still drains.
      const f = decodeFrame(data);
      if (f.kind === 'ping') this.#sendControl(encodeHeartbeat('pong', f.seq, f.sentAt));
      return;
    }
    this.lastHeard = this.options.clock.now();
    if (!this.isOpen) {
      if (this.#early.length >= MAX_EARLY_FRAMES || this.#earlyBytes + data.byteLength > MAX_EARLY_BYTES) {
        return this.hooks.onBad(this, 'too many frames before the connection opened');
      }
      this.#early.push({ reliability, data });
      this.#earlyBytes += data.byteLength;
      return;
    }
    const f = decodeFrame(data);
    switch (f.kind) {
      case 'bad':
        return this.hooks.onBad(this, f.reason);
      case 'msg':
        // The sender's limit may be higher than ours: a single frame can carry up to the
        // transport's frame size, and our limit holds for those as for chunked ones.
        if (f.payload.byteLength > this.options.maxMessageBytes) {
          return this.hooks.onBad(this, `message of ${f.payload.byteLength} bytes over the ${this.options.maxMessageBytes}-byte limit`);
        }
        return this.hooks.onMessage(this, f.channel, reliability, f.payload);
      case 'chunk-first':
      case 'chunk-next': {
        if (reliability !== 'reliable') return this.hooks.onBad(this, 'chunk on the unreliable channel');
        const r =
          f.kind === 'chunk-first'
            ? this.#reassembler.first(f.channel, f.msgId, f.total, f.payload)
            : this.#reassembler.next(f.msgId, f.payload);
        if (r.kind === 'complete') return this.hooks.onMessage(this, r.channel, reliability, r.data);
        if (r.kind === 'bad') return this.hooks.onBad(this, r.reason);
        return;
      }
      case 'ping':
        return this.#sendControl(encodeHeartbeat('pong', f.seq, f.sentAt));
      case 'pong': {
        const sample = this.options.clock.now() - f.sentAt;
        if (sample < 0 || sample > 600_000) return this.hooks.onBad(this, `pong with impossible time (${sample} ms)`);
        return this.hooks.onRtt(this, sample);
      }
      case 'bye':
        return this.hooks.onBye(this);
    }
  }
}
