/**
 * A whole simulated network in one process: an in-memory relay plus in-memory
 * transports, joined through the real {@link createMesh}. For deterministic tests of
 * everything built on the mesh (Yjs sync, lockstep games). It lives in `src/mesh`
 * because it builds meshes; the parts it wires are `transport/memory.ts` and
 * `signaling-client/memory-signaling.ts`.
 */
import { type Clock, ManualClock, realClock } from '../util/clock.js';
import { createRng } from '../util/rng.js';
import { MemoryRelay } from '../signaling-client/memory-signaling.js';
import { type LinkConditions, MemoryWire } from '../transport/memory.js';
import { type MeshOptions, createMesh } from './create-mesh.js';
import type { PeerId, Room } from './types.js';

/**
 * Options of {@link createMemoryNetwork}.
 *
 * @example
 * ```ts
 * const net = createMemoryNetwork({ seed: 7, clock: new ManualClock(), latencyMs: 40, jitterMs: 10, loss: 0.02 });
 * ```
 */
export interface MemoryNetworkOptions extends LinkConditions {
  /** Seed for loss, jitter and generated peer ids (default 1). */
  seed?: number;
  /** Clock for latency, heartbeats and timeouts (default: the real clock; pass a ManualClock for simulated time). */
  clock?: Clock;
  /** Largest transport frame, bytes (default 256 KiB; e.g. 16 KiB to exercise chunking). */
  maxMessageSize?: number;
  /** Transport `drain` threshold, bytes (default 256 KiB). */
  lowWaterMark?: number;
  /** The relay's members-per-room limit (default none). */
  roomLimit?: number;
  /** Mesh options applied to every `join()` unless it overrides them. */
  mesh?: MemoryJoinOptions;
}

/**
 * Per-peer options of {@link MemoryNetwork.join}: mesh options plus a chosen id.
 *
 * @example
 * ```ts
 * const a = net.join('room', { peerId: 'a', heartbeatIntervalMs: 200 });
 * ```
 */
export interface MemoryJoinOptions extends Partial<Omit<MeshOptions, 'room' | 'signaling' | 'transports' | 'clock'>> {
  /** This peer's id (default: a seeded random one). Ids are unique across the network. */
  peerId?: PeerId;
}

/**
 * A simulated network; see {@link createMemoryNetwork}.
 *
 * @example
 * ```ts
 * const net = createMemoryNetwork({ clock: new ManualClock() });
 * const [a, b] = [net.join('r', { peerId: 'a' }), net.join('r', { peerId: 'b' })];
 * await net.advance(1000); // connected
 * net.partition([['a'], ['b']]);
 * await net.advance(5000); // each sees the other leave
 * net.heal();
 * ```
 */
export interface MemoryNetwork {
  /** The clock everything runs on. */
  readonly clock: Clock;
  /** The simulated transports (link shaping, counters). */
  readonly wire: MemoryWire;
  /** The simulated relay. */
  readonly relay: MemoryRelay;
  /** A new peer joins `room` (a real mesh over in-memory parts). Its `selfId` is set once the relay answers (a microtask later). */
  join(room: string, options?: MemoryJoinOptions): Room;
  /** Latency, jitter and loss of the link between `a` and `b`. */
  setLink(a: PeerId, b: PeerId, conditions: LinkConditions): void;
  /** Cut connections between groups and block new ones; the relay still reaches everyone. */
  partition(groups: PeerId[][]): void;
  /** Undo `partition`; meshes reconnect through signaling. */
  heal(): void;
  /** `a` and `b` cannot connect (a NAT pair without TURN); each still reaches everyone else. */
  block(a: PeerId, b: PeerId): void;
  /** Undo `block(a, b)`; they connect again through signaling. */
  unblock(a: PeerId, b: PeerId): void;
  /** The peer vanishes without a goodbye (like a killed process): others detect it by heartbeat timeout. */
  disconnect(peerId: PeerId): void;
  /**
   * Undo `disconnect`: the id is reachable again, so a new `join()` with the same `peerId`
   * acts like a restarted process (the old mesh should be `leave()`d first; its goodbye is lost).
   */
  restore(peerId: PeerId): void;
  /** Relay outage (`false`) and recovery (`true`); peer connections are unaffected. */
  setRelayUp(up: boolean): void;
  /** Open peer connections in the network, each pair once. */
  openConnections(): number;
  /** Let every zero-delay delivery run (macrotask turns until nothing is in flight; bounded). */
  settle(): Promise<void>;
  /**
   * Simulated time (the network's clock must be a {@link ManualClock}): settle, advance
   * `ms` running every timer in order with promise continuations in between, settle again.
   */
  advance(ms: number): Promise<void>;
}

/**
 * Create a simulated network for deterministic tests.
 *
 * @example
 * ```ts
 * const clock = new ManualClock();
 * const net = createMemoryNetwork({ seed: 42, clock, latencyMs: 30, jitterMs: 10, loss: 0.05 });
 * const a = net.join('game', { peerId: 'a' });
 * const b = net.join('game', { peerId: 'b' });
 * await net.advance(1000); // connections open in simulated time
 * a.channel('inputs', { reliability: 'unreliable' }).broadcast(new Uint8Array([1]));
 * net.partition([['a'], ['b']]); // both see peer-left
 * net.heal(); await net.advance(10_000); // reconnected
 * ```
 */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  const clock = options.clock ?? realClock();
  const wire = new MemoryWire({ ...options, clock });
  const relay = new MemoryRelay({ roomLimit: options.roomLimit });
  const ids = createRng((options.seed ?? 1) ^ 0x9e3779b9);
  const used = new Set<PeerId>();
  const newId = (): PeerId => {
    for (;;) {
      const id = `p${Math.floor(ids.next() * 36 ** 6).toString(36).padStart(6, '0')}`;
      if (!used.has(id)) return id;
    }
  };

  const settle = async () => {
    let quiet = 0;
    for (let turn = 0; turn < 10_000 && quiet < 3; turn++) {
      await new Promise<void>((r) => setImmediate(r));
      quiet = wire.pending === 0 && relay.pending === 0 ? quiet + 1 : 0;
    }
  };

  return {
    clock,
    wire,
    relay,
    join(room, joinOptions = {}) {
      const { peerId: chosen, ...meshOptions } = { ...options.mesh, ...joinOptions };
      const peerId = chosen ?? newId();
      used.add(peerId);
      return createMesh({
        ...meshOptions,
        // In-memory transports have no native close race to wait out (see MeshOptions).
        farewellTimeoutMs: meshOptions.farewellTimeoutMs ?? 0,
        room,
        clock,
        signaling: relay.client(room, peerId),
        transports: wire.factory(peerId),
      });
    },
    setLink: (a, b, c) => wire.setLink(a, b, c),
    partition: (groups) => wire.partition(groups),
    heal: () => wire.heal(),
    block: (a, b) => wire.block(a, b),
    unblock: (a, b) => wire.unblock(a, b),
    disconnect(peerId) {
      wire.disconnect(peerId);
      relay.vanish(peerId);
    },
    restore: (peerId) => wire.restore(peerId),
    setRelayUp: (up) => relay.setUp(up),
    openConnections: () => wire.openConnections(),
    settle,
    async advance(ms) {
      if (!(clock instanceof ManualClock)) throw new TypeError('advance() needs a network created with a ManualClock');
      await settle();
      await clock.advanceAsync(ms);
      await settle();
    },
  };
}
