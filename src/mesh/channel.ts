/**
 * A named channel: a thin handle that tags outgoing messages with the channel's wire id
 * and receives the messages the mesh routes to it.
 */
import { Emitter } from '../util/emitter.js';
import { ChannelClaim } from './channel-claim.js';
import { channelId } from './frame.js';
import type { Channel, ChannelEvents, PeerId, Reliability } from './types.js';

/** What a channel needs from its room. */
export interface ChannelHost {
  sendOn(channel: MeshChannel, to: PeerId, data: Uint8Array): Promise<void>;
  broadcastOn(channel: MeshChannel, data: Uint8Array): Promise<void>;
  queuedOn(channel: MeshChannel, to: PeerId): number;
  /** The channel got its first user (a listener or a claim), or lost its last one. */
  used(channel: MeshChannel, inUse: boolean): void;
}

export class MeshChannel implements Channel {
  readonly id: number;
  readonly events = new Emitter<ChannelEvents>();
  readonly #claim: ChannelClaim;
  /** Listeners and claim (0 or 1) not yet given up: while any, the room keeps the channel. */
  #users = 0;

  constructor(
    readonly name: string,
    readonly reliability: Reliability,
    private readonly host: ChannelHost,
  ) {
    this.id = channelId(name);
    this.#claim = new ChannelClaim(name);
  }

  send(to: PeerId, data: Uint8Array): Promise<void> {
    return this.host.sendOn(this, to, data);
  }

  broadcast(data: Uint8Array): Promise<void> {
    return this.host.broadcastOn(this, data);
  }

  on<K extends keyof ChannelEvents>(event: K, listener: (value: ChannelEvents[K]) => void): () => void {
    return this.#use(this.events.on(event, listener));
  }

  queuedBytes(to: PeerId): number {
    return this.host.queuedOn(this, to);
  }

  claim(by: string): () => void {
    return this.#use(this.#claim.take(by));
  }

  /** Count one more user until `release` is first called; returns the release. */
  #use(release: () => void): () => void {
    if (this.#users++ === 0) this.host.used(this, true);
    let done = false;
    return () => {
      release();
      if (done) return;
      done = true;
      if (--this.#users === 0) this.host.used(this, false);
    };
  }
}
