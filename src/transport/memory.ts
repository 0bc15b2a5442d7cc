/**
 * The in-memory transport: a simulated network of {@link PeerTransport}s for fast,
 * deterministic unit tests (the real one is WebRTC). It behaves like a data-channel
 * pair where it matters to the mesh:
 *  - connecting takes a real signal exchange (offer, then answer) through whatever
 *    signaling the caller uses, so glare handling and encryption are exercised;
 *  - the reliable channel is ordered and lossless; the unreliable one may drop (`loss`)
 *    and reorder (`jitterMs`);
 *  - `bufferedAmount` counts bytes sent and not yet delivered, and `drain` fires when it
 *    falls to `lowWaterMark`, so backpressure code runs for real;
 *  - with zero latency and jitter, frames are delivered in microtasks (FIFO); otherwise
 *    on the injected clock, so a ManualClock runs long simulations in no real time.
 * Randomness (loss, jitter) comes from one seeded generator: same seed, same run.
 */
import { type Clock, realClock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import { type Rng, createRng } from '../util/rng.js';
import type { PeerId } from '../signaling-client/protocol.js';
import type { Reliability } from './types.js';
import type { PeerTransport, PeerTransportEvents, PeerTransportFactory } from './types.js';

/**
 * Conditions of the simulated link between two peers.
 *
 * @example
 * ```ts
 * net.setLink('a', 'b', { latencyMs: 120, jitterMs: 30, loss: 0.1 }); // a bad mobile link
 * ```
 */
export interface LinkConditions {
  /** One-way delay, ms (default 0). */
  latencyMs?: number;
  /** Extra random delay in [0, jitterMs), ms (default 0). Reliable frames stay in order. */
  jitterMs?: number;
  /** Probability that an unreliable frame is lost, 0..1 (default 0). Reliable frames are never lost. */
  loss?: number;
}

/** Options of a {@link MemoryWire}. */
export interface MemoryWireOptions extends LinkConditions {
  /** Seed of the generator behind loss and jitter (default 1). */
  seed?: number;
  /** Clock for latency (default: the real clock). */
  clock?: Clock;
  /** Largest frame, bytes (default 256 KiB, what Node's WebRTC negotiates here). */
  maxMessageSize?: number;
  /** `drain` threshold, bytes (default 256 KiB). */
  lowWaterMark?: number;
}

type Signal = { type: 'offer' | 'answer'; ref: number };
type Wire = { kind: 'frame'; reliability: Reliability; data: Uint8Array } | { kind: 'open' } | { kind: 'close' };

const pairKey = (a: PeerId, b: PeerId) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

/** One direction of one link: an ordered queue of reliable deliveries with due times. */
class Lane {
  items: Array<{ at: number; wire: Wire; bytes: number }> = [];
  head = 0;
  lastAt = 0;
  scheduled = false;
}

class MemoryEndpoint implements PeerTransport {
  readonly events = new Emitter<PeerTransportEvents>();
  peer: MemoryEndpoint | undefined;
  state: 'new' | 'linked' | 'open' | 'closed' = 'new';
  buffered = { reliable: 0, unreliable: 0 };
  /** Bytes of the outgoing reliable lane (for `drain` edge detection). */
  aboveLowWater = { reliable: false, unreliable: false };
  readonly out = new Lane();
  conditions: Required<LinkConditions> | undefined;
  conditionsVersion = -1;

  constructor(
    readonly wire: MemoryWire,
    readonly ref: number,
    readonly localId: PeerId,
    readonly remoteId: PeerId,
    readonly initiator: boolean,
  ) {
    if (initiator) wire.later(() => this.state === 'new' && this.events.emit('signal', { type: 'offer', ref } satisfies Signal));
  }

  get maxMessageSize(): number {
    return this.wire.maxMessageSize;
  }

  get lowWaterMark(): number {
    return this.wire.lowWaterMark;
  }

  signal(data: unknown): void {
    if (this.state === 'closed') return;
    const s = data as Partial<Signal> | null;
    if (typeof s !== 'object' || s === null || typeof s.ref !== 'number' || (s.type !== 'offer' && s.type !== 'answer')) {
      return this.destroy(new MeshpartyError('bad-signal', 'malformed memory-transport signal'));
    }
    if ((s.type === 'offer') === this.initiator) return this.destroy(new MeshpartyError('bad-signal', `unexpected ${s.type}`));
    if (this.state !== 'new') return; // a duplicate; WebRTC would ignore it too
    const other = this.wire.endpoint(s.ref);
    if (!other || other.state === 'closed' || other.localId !== this.remoteId || other.remoteId !== this.localId) {
      return this.destroy(new MeshpartyError('bad-signal', `signal names no matching endpoint (${s.type} ${s.ref})`));
    }
    // A partition or a vanished peer: the offer goes nowhere, as ICE would fail to connect.
    if (!this.wire.reachable(this.localId, this.remoteId)) return;
    if (s.type === 'offer') {
      if (other.state !== 'new') return;
      this.peer = other;
      this.state = 'linked';
      this.events.emit('signal', { type: 'answer', ref: this.ref } satisfies Signal);
      return;
    }
    if (other.peer !== this || other.state !== 'linked') return;
    this.peer = other;
    this.state = 'open';
    this.wire.send(this, { kind: 'open' }, 0);
    this.wire.later(() => this.state === 'open' && this.events.emit('open', undefined));
  }

  send(reliability: Reliability, data: Uint8Array): void {
    if (this.state !== 'open') throw new MeshpartyError('not-open', `transport to ${this.remoteId} is not open`);
    if (!(data instanceof Uint8Array)) throw new MeshpartyError('bad-argument', 'frame must be a Uint8Array');
    if (data.byteLength > this.maxMessageSize) {
      throw new MeshpartyError('frame-too-large', `frame of ${data.byteLength} bytes over ${this.maxMessageSize}`, {
        bytes: data.byteLength,
        maxMessageSize: this.maxMessageSize,
      });
    }
    // Copy, as a real data channel does: the caller may reuse its buffer.
    this.wire.send(this, { kind: 'frame', reliability, data: data.slice() }, data.byteLength);
  }

  bufferedAmount(reliability: Reliability): number {
    return this.buffered[reliability];
  }

  on<K extends keyof PeerTransportEvents>(event: K, listener: (value: PeerTransportEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  destroy(err?: MeshpartyError): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'open' || this.state === 'linked';
    this.state = 'closed';
    this.wire.forget(this);
    // Frames already sent still arrive before the close, like an orderly SCTP shutdown.
    if (wasConnected && this.peer) this.wire.send(this, { kind: 'close' }, 0);
    this.wire.later(() => {
      if (err) this.events.emit('error', err);
      this.events.emit('close', { reason: err ? err.code : 'closed' });
    });
  }

  /** Called by the wire when something arrives from the peer. */
  receive(w: Wire): void {
    if (this.state === 'closed') return;
    if (w.kind === 'open') {
      if (this.state !== 'linked') return;
      this.state = 'open';
      this.events.emit('open', undefined);
    } else if (w.kind === 'close') {
      this.closeWith('remote closed');
    } else if (this.state === 'open') {
      this.events.emit('frame', { reliability: w.reliability, data: w.data });
    }
  }

  /** Close locally with `reason` (remote close, partition) without telling the peer. */
  closeWith(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.wire.forget(this);
    this.wire.later(() => this.events.emit('close', { reason }));
  }

  delivered(reliability: Reliability, bytes: number): void {
    this.buffered[reliability] -= bytes;
    if (this.aboveLowWater[reliability] && this.buffered[reliability] <= this.lowWaterMark) {
      this.aboveLowWater[reliability] = false;
      if (this.state !== 'closed') this.events.emit('drain', { reliability });
    }
  }
}

/**
 * A simulated network for in-memory transports. Give each peer its own
 * {@link MemoryWire.factory}; shape links with `setLink`, and break them with
 * `partition` / `disconnect`.
 *
 * @example
 * ```ts
 * const wire = new MemoryWire({ seed: 7, latencyMs: 20, loss: 0.05, clock });
 * const transportsOfAlice = wire.factory('alice');
 * ```
 */
export class MemoryWire {
  readonly clock: Clock;
  readonly maxMessageSize: number;
  readonly lowWaterMark: number;
  readonly rng: Rng;
  #defaults: Required<LinkConditions>;
  #links = new Map<string, LinkConditions>();
  #linksVersion = 0;
  #endpoints = new Map<number, MemoryEndpoint>();
  #nextRef = 1;
  #groups: Map<PeerId, number> | undefined;
  #vanished = new Set<PeerId>();
  #blocked = new Set<string>();
  #pending = 0;

  constructor(options: MemoryWireOptions = {}) {
    this.clock = options.clock ?? realClock();
    this.maxMessageSize = options.maxMessageSize ?? 256 * 1024;
    this.lowWaterMark = options.lowWaterMark ?? 256 * 1024;
    this.rng = createRng(options.seed ?? 1);
    this.#defaults = { latencyMs: options.latencyMs ?? 0, jitterMs: options.jitterMs ?? 0, loss: options.loss ?? 0 };
  }

  /** The transport factory of peer `localId`. */
  factory(localId: PeerId): PeerTransportFactory {
    return {
      create: ({ remoteId, initiator }) => {
        const ep = new MemoryEndpoint(this, this.#nextRef++, localId, remoteId, initiator);
        this.#endpoints.set(ep.ref, ep);
        return ep;
      },
    };
  }

  /** Set the conditions of the link between `a` and `b` (both directions). */
  setLink(a: PeerId, b: PeerId, conditions: LinkConditions): void {
    this.#links.set(pairKey(a, b), conditions);
    this.#linksVersion++;
  }

  /** The link conditions of `ep`, cached per endpoint until the next `setLink` (hot path). */
  #conditions(ep: MemoryEndpoint): Required<LinkConditions> {
    if (ep.conditionsVersion !== this.#linksVersion || !ep.conditions) {
      const link = this.#links.get(pairKey(ep.localId, ep.remoteId)) ?? {};
      const d = this.#defaults;
      ep.conditions = { latencyMs: link.latencyMs ?? d.latencyMs, jitterMs: link.jitterMs ?? d.jitterMs, loss: link.loss ?? d.loss };
      ep.conditionsVersion = this.#linksVersion;
    }
    return ep.conditions;
  }

  /**
   * Split peers into groups that cannot reach each other: open connections across groups
   * close (both sides see `close`), new ones never open. Peers not listed form one more group.
   */
  partition(groups: PeerId[][]): void {
    this.#groups = new Map();
    groups.forEach((g, i) => g.forEach((p) => this.#groups!.set(p, i)));
    for (const ep of [...this.#endpoints.values()]) {
      if (ep.state !== 'closed' && ep.peer && !this.reachable(ep.localId, ep.remoteId)) ep.closeWith('network partition');
    }
  }

  /** Undo `partition`: every peer can reach every other again. */
  heal(): void {
    this.#groups = undefined;
  }

  /**
   * `a` and `b` cannot connect, as a NAT pair without TURN: an open connection between
   * them closes on both sides and no new one opens, while each reaches everyone else.
   */
  block(a: PeerId, b: PeerId): void {
    this.#blocked.add(pairKey(a, b));
    for (const ep of [...this.#endpoints.values()]) {
      if (ep.state !== 'closed' && ep.peer && pairKey(ep.localId, ep.remoteId) === pairKey(a, b)) ep.closeWith('blocked');
    }
  }

  /** Undo `block(a, b)`. */
  unblock(a: PeerId, b: PeerId): void {
    this.#blocked.delete(pairKey(a, b));
  }

  /**
   * The connection between `a` and `b` fails. With `only`, just that peer's side notices
   * (its transport closes; the other side learns through heartbeats or signaling), as
   * when one end's network stack gives up first.
   */
  fail(a: PeerId, b: PeerId, only?: PeerId): void {
    for (const ep of [...this.#endpoints.values()]) {
      if (ep.state === 'closed' || pairKey(ep.localId, ep.remoteId) !== pairKey(a, b)) continue;
      if (only === undefined || ep.localId === only) ep.closeWith('connection failed');
    }
  }

  /** `peerId` vanishes: nothing more is delivered to or from it, and nobody is told. */
  disconnect(peerId: PeerId): void {
    this.#vanished.add(peerId);
  }

  /** Undo `disconnect(peerId)`: its network is back (e.g. the process restarted with the same id). */
  restore(peerId: PeerId): void {
    this.#vanished.delete(peerId);
  }

  /** True when `a` can reach `b` now. */
  reachable(a: PeerId, b: PeerId): boolean {
    if (this.#vanished.has(a) || this.#vanished.has(b) || this.#blocked.has(pairKey(a, b))) return false;
    if (!this.#groups) return true;
    return (this.#groups.get(a) ?? -1) === (this.#groups.get(b) ?? -1);
  }

  /** Number of open connections (each pair counted once). */
  openConnections(): number {
    let n = 0;
    for (const ep of this.#endpoints.values()) if (ep.state === 'open' && ep.initiator && ep.peer?.state === 'open') n++;
    return n;
  }

  /** Zero-delay deliveries still queued as microtasks (timer-scheduled ones are not counted). */
  get pending(): number {
    return this.#pending;
  }

  /** @internal */
  endpoint(ref: number): MemoryEndpoint | undefined {
    return this.#endpoints.get(ref);
  }

  /** @internal */
  forget(ep: MemoryEndpoint): void {
    this.#endpoints.delete(ep.ref);
  }

  /** @internal Run `fn` after the current task, in FIFO order with deliveries. */
  later(fn: () => void): void {
    this.#pending++;
    queueMicrotask(() => {
      this.#pending--;
      fn();
    });
  }

  /** @internal Send one wire item from `from` to its peer, accounting `bytes` as buffered. */
  send(from: MemoryEndpoint, wire: Wire, bytes: number): void {
    const to = from.peer;
    if (!to) return;
    const c = this.#conditions(from);
    const reliability = wire.kind === 'frame' ? wire.reliability : 'reliable';
    from.buffered[reliability] += bytes;
    if (from.buffered[reliability] > this.lowWaterMark) from.aboveLowWater[reliability] = true;
    // Whole milliseconds: deliveries due at the same ms share one timer turn, which keeps
    // long simulated runs (thousands of frames, many peers) cheap under ManualClock.advanceAsync.
    const delay = Math.ceil(c.latencyMs + (c.jitterMs > 0 ? this.rng.next() * c.jitterMs : 0));
    const now = this.clock.now();
    if (reliability === 'unreliable') {
      const lost = c.loss > 0 && this.rng.chance(c.loss);
      this.#schedule(delay, () => {
        from.delivered('unreliable', bytes);
        if (!lost && this.reachable(from.localId, to.localId)) to.receive(wire);
      });
      return;
    }
    // Reliable: never earlier than the previous reliable item of this direction (order).
    const lane = from.out;
    const at = Math.max(now + delay, lane.lastAt);
    lane.lastAt = at;
    lane.items.push({ at, wire, bytes });
    if (!lane.scheduled) this.#flushLane(from, to, lane);
  }

  #flushLane(from: MemoryEndpoint, to: MemoryEndpoint, lane: Lane): void {
    const first = lane.items[lane.head];
    if (!first) return;
    lane.scheduled = true;
    this.#schedule(first.at - this.clock.now(), () => {
      lane.scheduled = false;
      const now = this.clock.now();
      while (lane.head < lane.items.length && lane.items[lane.head]!.at <= now) {
        const item = lane.items[lane.head++]!;
        from.delivered('reliable', item.bytes);
        if (this.reachable(from.localId, to.localId)) to.receive(item.wire);
      }
      if (lane.head === lane.items.length) {
        lane.items = [];
        lane.head = 0;
      } else this.#flushLane(from, to, lane);
    });
  }

  #schedule(delay: number, fn: () => void): void {
    if (delay <= 0) return this.later(fn);
    this.clock.setTimeout(fn, delay);
  }
}

/**
 * Two connected in-memory transports, signals wired directly (for transport-level tests).
 *
 * @example
 * ```ts
 * const { a, b } = memoryTransportPair();
 * b.on('frame', ({ data }) => console.log(data));
 * a.on('open', () => a.send('reliable', new Uint8Array([1])));
 * ```
 */
export function memoryTransportPair(options: MemoryWireOptions = {}): { a: PeerTransport; b: PeerTransport; wire: MemoryWire } {
  const wire = new MemoryWire(options);
  const a = wire.factory('a').create({ localId: 'a', remoteId: 'b', initiator: true });
  const b = wire.factory('b').create({ localId: 'b', remoteId: 'a', initiator: false });
  a.on('signal', (s) => b.signal(s));
  b.on('signal', (s) => a.signal(s));
  return { a, b, wire };
}
