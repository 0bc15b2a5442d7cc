/**
 * The lobby: who is here, their names, and who is ready. Each page announces its own
 * entry on a reliable channel (to everyone on change, and to each newcomer). The host is
 * the lowest peer id in the room, so every page agrees on who may press Start.
 */
import { displayName } from '../shared/display-name.js';
import type { PeerId, Room } from '../../src/index.js';

export interface LobbyEntry {
  name: string;
  ready: boolean;
  /** In a running game: a page that arrives sees that no one should press Start. */
  playing?: boolean;
}

const MAX_NAME = 24;

export class Lobby {
  readonly entries = new Map<PeerId, LobbyEntry>();
  #me: LobbyEntry;
  #listeners = new Set<() => void>();
  #channel;
  #timer: ReturnType<typeof setInterval>;

  constructor(private readonly room: Room, name: string) {
    this.#me = { name: name.slice(0, MAX_NAME), ready: false };
    this.#channel = room.channel('game-lobby', { reliability: 'reliable' });
    this.#channel.on('message', ({ from, data }) => this.#receive(from, data));
    room.on('peer-joined', ({ id }) => void this.#channel.send(id, this.#encode()).catch(() => {}));
    room.on('peer-left', ({ id }) => {
      this.entries.delete(id);
      this.#changed();
    });
    void this.#channel.broadcast(this.#encode()).catch(() => {});
    // Repeat now and then: an announcement sent the instant a connection opens can be lost
    // if the other end is not open yet.
    this.#timer = setInterval(() => void this.#channel.broadcast(this.#encode()).catch(() => {}), 2000);
  }

  /**
   * This page's game has started: say so from now on, to everyone and to each newcomer,
   * so a newcomer that happens to have the lowest id does not take itself for the host
   * of a game of its own (its Start would begin a game no one else plays).
   */
  markPlaying(): void {
    this.set({ playing: true });
  }

  /** A connected peer is in a running game. */
  get gameRunning(): boolean {
    return [...this.entries].some(([id, e]) => e.playing === true && this.room.peers.has(id));
  }

  /** Stop announcing (the page is going away). */
  close(): void {
    clearInterval(this.#timer);
  }

  get me(): LobbyEntry {
    return this.#me;
  }

  /** Lowest id among this page and its connected peers (plain code-unit order). */
  get hostId(): PeerId {
    return [this.room.selfId, ...this.room.peers.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0]!;
  }

  get isHost(): boolean {
    return this.hostId === this.room.selfId;
  }

  /** Ready players, this page included, host first. */
  readyPlayers(): PeerId[] {
    const ids = [...this.entries].filter(([id, e]) => e.ready && this.room.peers.has(id)).map(([id]) => id);
    if (this.#me.ready) ids.push(this.room.selfId);
    return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  nameOf(id: PeerId): string {
    return id === this.room.selfId ? this.#me.name : (this.entries.get(id)?.name ?? id.slice(0, 6));
  }

  set(update: Partial<LobbyEntry>): void {
    this.#me = { ...this.#me, ...update, name: (update.name ?? this.#me.name).slice(0, MAX_NAME) };
    void this.#channel.broadcast(this.#encode()).catch(() => {});
    this.#changed();
  }

  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #encode(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.#me));
  }

  #receive(from: PeerId, data: Uint8Array): void {
    try {
      const v = JSON.parse(new TextDecoder().decode(data)) as Partial<LobbyEntry>;
      if (typeof v.name !== 'string' || typeof v.ready !== 'boolean') throw new Error('bad lobby entry');
      this.entries.set(from, { name: displayName(v.name, MAX_NAME) ?? from.slice(0, 6), ready: v.ready, playing: v.playing === true });
      this.#changed();
    } catch (err) {
      console.warn(`lobby: dropped a message from ${from}: ${(err as Error).message}`);
    }
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }
}
