/**
 * A minimal room network for lockstep session tests that must not depend on the mesh:
 * every peer sees every other, delivery is scheduled on a ManualClock with seeded
 * latency, jitter and loss (loss on the unreliable channel only; reliable stays ordered).
 */
import type { Channel, ChannelEvents, PeerId, PeerInfo, Reliability, Room, RoomEvents } from '../../src/mesh/types.js';
import type { ManualClock } from '../../src/util/clock.js';
import { Emitter } from '../../src/util/emitter.js';
import { createRng } from '../../src/util/rng.js';

export interface FakeNetworkOptions {
  clock: ManualClock;
  seed?: number;
  latencyMs?: number;
  jitterMs?: number;
  loss?: number;
  rttMs?: number;
}

export function createFakeNetwork(opts: FakeNetworkOptions) {
  const rng = createRng(opts.seed ?? 1);
  const rooms = new Map<PeerId, FakeRoom>();
  const lastAt = new Map<string, number>();
  const bytes = new Map<string, number>();

  class FakeChannel implements Channel {
    readonly events = new Emitter<ChannelEvents>();
    constructor(readonly room: FakeRoom, readonly name: string, readonly reliability: Reliability) {}
    async send(to: PeerId, data: Uint8Array): Promise<void> {
      const target = rooms.get(to);
      if (!target || !this.room.peers.has(to) || this.room.closed) return;
      const key = `${this.room.selfId}>${to}:${this.name}`;
      bytes.set(key, (bytes.get(key) ?? 0) + data.length);
      if (this.reliability === 'unreliable' && rng.chance(opts.loss ?? 0)) return;
      let at = opts.clock.now() + (opts.latencyMs ?? 0) + rng.next() * (opts.jitterMs ?? 0);
      if (this.reliability === 'reliable') at = Math.max(at, lastAt.get(key) ?? 0);
      lastAt.set(key, at);
      const copy = data.slice();
      const from = this.room.selfId;
      opts.clock.setTimeout(() => {
        if (target.closed || !target.peers.has(from)) return;
        target.channel(this.name, { reliability: this.reliability }).events.emit('message', { from, data: copy });
      }, at - opts.clock.now());
    }
    async broadcast(data: Uint8Array): Promise<void> {
      for (const p of this.room.peers.keys()) await this.send(p, data);
    }
    on<K extends keyof ChannelEvents>(e: K, l: (v: ChannelEvents[K]) => void) {
      return this.events.on(e, l);
    }
    queuedBytes() {
      return 0;
    }
  }

  class FakeRoom implements Room {
    readonly events = new Emitter<RoomEvents>();
    readonly peers = new Map<PeerId, PeerInfo>();
    readonly channels = new Map<string, FakeChannel>();
    status: Room['status'] = 'connected';
    closed = false;
    constructor(readonly name: string, readonly selfId: PeerId) {}
    on<K extends keyof RoomEvents>(e: K, l: (v: RoomEvents[K]) => void) {
      return this.events.on(e, l);
    }
    channel(name: string, o?: { reliability?: Reliability }): FakeChannel {
      let c = this.channels.get(name);
      if (!c) this.channels.set(name, (c = new FakeChannel(this, name, o?.reliability ?? 'reliable')));
      return c;
    }
    send(to: PeerId, data: Uint8Array) {
      return this.channel('default').send(to, data);
    }
    broadcast(data: Uint8Array) {
      return this.channel('default').broadcast(data);
    }
    async leave() {
      network.disconnect(this.selfId);
    }
  }

  const network = {
    bytes,
    join(id: PeerId): FakeRoom {
      const room = new FakeRoom('room', id);
      rooms.set(id, room);
      for (const other of rooms.values()) {
        if (other === room || other.closed) continue;
        other.peers.set(id, { id, rttMs: opts.rttMs });
        room.peers.set(other.selfId, { id: other.selfId, rttMs: opts.rttMs });
      }
      for (const other of rooms.values()) {
        if (other === room || other.closed) continue;
        other.events.emit('peer-joined', { id, rttMs: opts.rttMs });
        room.events.emit('peer-joined', { id: other.selfId, rttMs: opts.rttMs });
      }
      return room;
    },
    disconnect(id: PeerId): void {
      const room = rooms.get(id);
      if (!room || room.closed) return;
      room.closed = true;
      for (const other of rooms.values()) {
        if (!other.peers.delete(id)) continue;
        other.events.emit('peer-left', { id, reason: 'disconnected' });
      }
      room.peers.clear();
    },
  };
  return network;
}
