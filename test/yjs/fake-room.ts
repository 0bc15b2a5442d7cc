/**
 * A tiny in-test Room: peers in one hub, delivery through a timer hop so sends are
 * asynchronous and a channel is "busy" while a message is in flight. Only for unit
 * tests of the provider's own logic; the convergence test uses the real in-memory network.
 */
import type { Channel, ChannelEvents, PeerId, PeerInfo, Room, RoomEvents } from '../../src/mesh/types.js';
import { ChannelClaim } from '../../src/mesh/channel-claim.js';
import { Emitter } from '../../src/util/emitter.js';
import { MeshpartyError } from '../../src/util/errors.js';

export class FakeHub {
  rooms = new Map<PeerId, FakeRoom>();
  /** Every message sent, by channel name. */
  sent: Array<{ from: PeerId; to: PeerId; channel: string; bytes: number }> = [];

  join(id: PeerId): FakeRoom {
    const room = new FakeRoom(this, id);
    for (const other of this.rooms.values()) {
      other.addPeer(id);
      room.addPeer(other.selfId);
    }
    this.rooms.set(id, room);
    return room;
  }
}

class FakeChannel implements Channel {
  readonly reliability = 'reliable' as const;
  events = new Emitter<ChannelEvents>();
  constructor(private room: FakeRoom, readonly name: string) {}
  send(to: PeerId, data: Uint8Array): Promise<void> {
    if (!this.room.peers.has(to)) return Promise.reject(new MeshpartyError('unknown-peer', to));
    const copy = data.slice();
    this.room.hub.sent.push({ from: this.room.selfId, to, channel: this.name, bytes: data.length });
    return new Promise((resolve) =>
      setTimeout(() => {
        this.room.hub.rooms.get(to)?.deliver(this.room.selfId, this.name, copy);
        resolve();
      }, 1),
    );
  }
  async broadcast(data: Uint8Array): Promise<void> {
    await Promise.all([...this.room.peers.keys()].map((p) => this.send(p, data)));
  }
  on<K extends keyof ChannelEvents>(event: K, listener: (v: ChannelEvents[K]) => void) {
    return this.events.on(event, listener);
  }
  queuedBytes(): number {
    return 0;
  }
  #claim: ChannelClaim | undefined;
  claim(by: string): () => void {
    return (this.#claim ??= new ChannelClaim(this.name)).take(by);
  }
}

export class FakeRoom implements Room {
  readonly name = 'fake';
  status = 'connected' as const;
  peers = new Map<PeerId, PeerInfo>();
  events = new Emitter<RoomEvents>();
  channels = new Map<string, FakeChannel>();
  disconnected: Array<{ id: PeerId; reason: string }> = [];
  constructor(readonly hub: FakeHub, readonly selfId: PeerId) {}
  addPeer(id: PeerId) {
    this.peers.set(id, { id, rttMs: undefined });
    this.events.emit('peer-joined', { id, rttMs: undefined });
  }
  removePeer(id: PeerId) {
    if (this.peers.delete(id)) this.events.emit('peer-left', { id, reason: 'test' });
  }
  deliver(from: PeerId, channel: string, data: Uint8Array) {
    if (!this.peers.has(from)) return;
    this.channels.get(channel)?.events.emit('message', { from, data });
  }
  on<K extends keyof RoomEvents>(event: K, listener: (v: RoomEvents[K]) => void) {
    return this.events.on(event, listener);
  }
  channel(name: string): Channel {
    let c = this.channels.get(name);
    if (!c) this.channels.set(name, (c = new FakeChannel(this, name)));
    return c;
  }
  send(to: PeerId, data: Uint8Array) {
    return this.channel('default').send(to, data);
  }
  broadcast(data: Uint8Array) {
    return this.channel('default').broadcast(data);
  }
  disconnect(id: PeerId, reason: string) {
    this.disconnected.push({ id, reason });
    this.removePeer(id);
    this.hub.rooms.get(id)?.removePeer(this.selfId);
  }
  async leave() {
    for (const id of [...this.peers.keys()]) {
      this.removePeer(id);
      this.hub.rooms.get(id)?.removePeer(this.selfId);
    }
    this.hub.rooms.delete(this.selfId);
  }
}
