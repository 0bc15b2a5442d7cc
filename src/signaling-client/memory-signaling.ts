/**
 * An in-memory relay and its clients, implementing {@link Signaling} for unit tests.
 * It follows the real relay's rules that the mesh depends on: addressed signals with a
 * `from` stamped by the relay, per-room membership with `peer-joined`/`peer-left`, a
 * per-room limit answered with `room-full`, and clients that rejoin with the same id
 * after an outage. Everything is delivered in microtasks, in one FIFO, so runs are
 * deterministic.
 */
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import type { PeerId } from './protocol.js';
import type { Signaling, SignalingEvents, SignalingStatus } from './types.js';

/** Options of a {@link MemoryRelay}. */
export interface MemoryRelayOptions {
  /** Members per room before `room-full` (default: no limit). */
  roomLimit?: number;
}

class MemoryRelayClient implements Signaling {
  readonly events = new Emitter<SignalingEvents>();
  status: SignalingStatus = 'connecting';
  /** Wants to be in the room (join() called, close() not). */
  wanted = false;
  member = false;
  vanished = false;

  constructor(
    private readonly relay: MemoryRelay,
    readonly room: string,
    readonly peerId: PeerId,
  ) {}

  join(): void {
    if (this.wanted || this.status === 'closed') return;
    this.wanted = true;
    this.relay.later(() => this.relay.admit(this));
  }

  sendSignal(to: PeerId, data: unknown): void {
    if (this.member) this.relay.forward(this, to, data);
  }

  on<K extends keyof SignalingEvents>(event: K, listener: (value: SignalingEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  close(): void {
    if (this.status === 'closed') return;
    this.wanted = false;
    this.relay.remove(this, true);
    this.setStatus('closed');
  }

  setStatus(s: SignalingStatus): void {
    if (this.status === s) return;
    this.status = s;
    if (s === 'closed') this.relay.release(this);
    this.events.emit('status', s);
  }
}

/**
 * A relay living in memory. `client(room, peerId)` gives one peer's {@link Signaling}.
 *
 * @example
 * ```ts
 * const relay = new MemoryRelay({ roomLimit: 8 });
 * const signaling = relay.client('room-1', 'alice');
 * signaling.on('joined', ({ peers }) => console.log('already here:', peers));
 * signaling.join();
 * ```
 */
export class MemoryRelay {
  #rooms = new Map<string, Map<PeerId, MemoryRelayClient>>();
  /** Clients not closed yet, in creation order (a closed one is never used again). */
  #clients = new Set<MemoryRelayClient>();
  #up = true;
  #pending = 0;

  constructor(private readonly options: MemoryRelayOptions = {}) {}

  /** A signaling client for `peerId` in `room` (call `join()` on it). */
  client(room: string, peerId: PeerId): Signaling {
    const c = new MemoryRelayClient(this, room, peerId);
    this.#clients.add(c);
    return c;
  }

  /** Deliveries still queued. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Take the relay down (`false`: every client goes `reconnecting`, signals are dropped,
   * nobody is told who left) or bring it back (`true`: clients rejoin with their ids).
   */
  setUp(up: boolean): void {
    if (this.#up === up) return;
    this.#up = up;
    if (!up) {
      this.#rooms.clear();
      for (const c of this.#clients) {
        if (c.status === 'closed') continue;
        c.member = false;
        this.later(() => c.status !== 'closed' && c.setStatus('reconnecting'));
      }
      return;
    }
    for (const c of this.#clients) if (c.wanted && !c.vanished) this.later(() => this.admit(c));
  }

  /** `peerId` vanishes: it leaves every room (others see `peer-left`) and never reconnects. */
  vanish(peerId: PeerId): void {
    for (const c of this.#clients) {
      if (c.peerId !== peerId || c.status === 'closed') continue;
      c.vanished = true;
      this.remove(c, true);
      this.later(() => c.status !== 'closed' && c.setStatus('reconnecting'));
    }
  }

  /**
   * The relay drops `peerId`'s connection (others see `peer-left`) while the peer itself
   * lives on: its client reconnects and rejoins, as after a relay-side heartbeat miss.
   */
  kick(peerId: PeerId): void {
    for (const c of this.#clients) {
      if (c.peerId !== peerId || c.status === 'closed' || !c.member) continue;
      this.remove(c, true);
      this.later(() => c.status !== 'closed' && c.setStatus('reconnecting'));
      this.later(() => this.admit(c));
    }
  }

  /**
   * @internal A client closed for good: forget it. Kept, every peer that ever joined
   * stayed reachable from the relay, so a long simulation grew with each join.
   */
  release(c: MemoryRelayClient): void {
    this.#clients.delete(c);
  }

  /** @internal */
  later(fn: () => void): void {
    this.#pending++;
    queueMicrotask(() => {
      this.#pending--;
      fn();
    });
  }

  /** @internal */
  admit(c: MemoryRelayClient): void {
    if (!this.#up || !c.wanted || c.vanished || c.member || c.status === 'closed') return;
    let members = this.#rooms.get(c.room);
    if (!members) this.#rooms.set(c.room, (members = new Map()));
    if (members.has(c.peerId)) {
      c.events.emit('error', new MeshpartyError('peer-id-taken', `peer id ${c.peerId} is taken in ${c.room}`));
      c.wanted = false;
      return c.setStatus('closed');
    }
    if (this.options.roomLimit !== undefined && members.size >= this.options.roomLimit) {
      c.events.emit('error', new MeshpartyError('room-full', `room ${c.room} is full (${members.size} members)`));
      c.wanted = false;
      return c.setStatus('closed');
    }
    const peers = [...members.keys()];
    members.set(c.peerId, c);
    c.member = true;
    c.setStatus('connected');
    c.events.emit('joined', { selfId: c.peerId, peers });
    for (const other of members.values()) {
      if (other !== c) this.later(() => other.member && other.events.emit('peer-joined', c.peerId));
    }
  }

  /** @internal */
  remove(c: MemoryRelayClient, announce: boolean): void {
    if (!c.member) return;
    c.member = false;
    const members = this.#rooms.get(c.room);
    if (!members || members.get(c.peerId) !== c) return;
    members.delete(c.peerId);
    if (announce) for (const other of members.values()) this.later(() => other.member && other.events.emit('peer-left', c.peerId));
  }

  /** @internal */
  forward(from: MemoryRelayClient, to: PeerId, data: unknown): void {
    if (!this.#up) return;
    const target = this.#rooms.get(from.room)?.get(to);
    if (!target) return;
    // A copy, as JSON over a socket would give: no shared objects between peers.
    const copy = structuredClone(data);
    this.later(() => target.member && target.events.emit('signal', { from: from.peerId, data: copy }));
  }
}
