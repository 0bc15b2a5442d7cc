/**
 * The mesh's public types: a room of peers connected pairwise over WebRTC data
 * channels. Upper layers (`src/yjs`, `src/lockstep`, `src/media`) and apps depend only
 * on these types, never on a transport or on simple-peer.
 */
import type { MeshpartyError } from '../util/errors.js';
import type { PeerId } from '../signaling-client/protocol.js';
import type { Reliability } from '../transport/types.js';

/** Peer ids come from the relay protocol; reliabilities from the transport below. */
export type { PeerId, Reliability };

/**
 * What the room knows about one connected peer.
 *
 * @example
 * ```ts
 * for (const p of room.peers.values()) console.log(p.id, p.rttMs === undefined ? '?' : `${p.rttMs} ms`);
 * ```
 */
export interface PeerInfo {
  readonly id: PeerId;
  /** Smoothed round-trip time from heartbeats, in ms; undefined until measured. */
  readonly rttMs: number | undefined;
}

/**
 * Connection state of the room as a whole.
 *
 * @example
 * ```ts
 * room.on('status', (s: RoomStatus) => (badge.textContent = s === 'reconnecting' ? 'relay lost, peers still here' : s));
 * ```
 */
export type RoomStatus =
  /** Connecting to the relay for the first time. */
  | 'connecting'
  /** Joined at the relay (peer connections may still be forming). */
  | 'connected'
  /** The relay is gone; existing peer connections keep working; rejoining with backoff. */
  | 'reconnecting'
  /** `leave()` was called or a fatal error happened. */
  | 'closed';

/**
 * A message received on a channel.
 *
 * @example
 * ```ts
 * room.channel('chat').on('message', ({ from, data }: ChannelMessage) => print(from, new TextDecoder().decode(data)));
 * ```
 */
export interface ChannelMessage {
  readonly from: PeerId;
  readonly data: Uint8Array;
}

/**
 * Events of a {@link Channel}.
 *
 * @example
 * ```ts
 * const off = channel.on('message', (m: ChannelEvents['message']) => handle(m.from, m.data));
 * off(); // stop listening
 * ```
 */
export interface ChannelEvents {
  message: ChannelMessage;
}

/**
 * A named channel multiplexed over the peer connections of a room. Every upper layer
 * takes its own name (`yjs:<doc>`, `lockstep`, `chat`, ...) so they never see each
 * other's bytes.
 *
 * @example
 * ```ts
 * const chat = room.channel('chat');
 * chat.on('message', ({ from, data }) => console.log(from, new TextDecoder().decode(data)));
 * chat.broadcast(new TextEncoder().encode('hello'));
 * ```
 */
export interface Channel {
  readonly name: string;
  readonly reliability: Reliability;
  /**
   * Send to one peer. Reliable channels queue behind backpressure and never drop or
   * reorder; the promise resolves once the whole message is handed to the data channel.
   * `data` may be reused or changed as soon as `send()` returns (a message that has to
   * wait is copied), as with a data channel's own `send()`.
   * Rejects with a MeshpartyError: `unknown-peer` (no open connection), `peer-left` (the
   * connection closed while the message waited, or the peer left while our leave()
   * drained it), `drain-timeout` (still waiting `farewellDrainMs` after our leave()),
   * `message-too-large`, `queue-full` (the peer's queue holds `maxQueuedBytes`; this
   * message was not queued, later ones may be), `bad-argument` (not a Uint8Array),
   * `closed` (the room is closed).
   */
  send(to: PeerId, data: Uint8Array): Promise<void>;
  /**
   * Send to every connected peer. A peer that leaves meanwhile is skipped; any other
   * refusal rejects (after the others were sent) with the first refusal's code and
   * `detail.failed`, each refused peer's code (e.g. `{ p2: 'queue-full' }`). Like
   * `send()`, `data` may be reused once `broadcast()` returns (one copy serves every peer).
   */
  broadcast(data: Uint8Array): Promise<void>;
  /** Subscribe to channel events; returns the unsubscribe function. */
  on<K extends keyof ChannelEvents>(event: K, listener: (value: ChannelEvents[K]) => void): () => void;
  /** Bytes queued on this channel towards `to`, not yet handed to the data channel. */
  queuedBytes(to: PeerId): number;
  /**
   * Take this channel for one user of its messages (a media share, a document), so that
   * a second user in this room is refused instead of both taking every message and
   * answering each other's peers. Throws a MeshpartyError `channel-in-use`
   * (`detail: { channel, by }`, `by` naming the holder) while another claim holds; returns
   * the release function (idempotent). Plain `on('message')` listeners are not affected.
   *
   * @example
   * ```ts
   * const release = room.channel('cursors').claim('cursor sharing');
   * // ... later, when done with the channel:
   * release();
   * ```
   */
  claim(by: string): () => void;
}

/**
 * Events of a {@link Room}. Every `room.on()` returns its unsubscribe function.
 *
 * @example
 * ```ts
 * const offs = [
 *   room.on('peer-joined', (p) => console.log('joined', p.id)),
 *   room.on('peer-left', ({ id, reason }) => console.log('left', id, reason)),
 *   room.on('error', (err) => console.warn(err.code, err.message)),
 * ];
 * offs.forEach((off) => off());
 * ```
 */
export interface RoomEvents {
  /** A peer connection opened (the peer is now in `room.peers`). */
  'peer-joined': PeerInfo;
  /** A peer connection closed for good (left, vanished, or failed and not recovered). */
  'peer-left': { id: PeerId; reason: string };
  /** The room's connection state changed. */
  status: RoomStatus;
  /**
   * Something went wrong; `code` is stable (e.g. `room-full`, `wrong-password`). An error
   * that ends the room is followed at once by status `closed`; `transport-failed`
   * (`detail.peer`: this WebRTC would not create a connection to that peer) is not: the
   * room tries again with backoff, emitting it again each time it still fails.
   */
  error: MeshpartyError;
  /**
   * The relay refused a connection attempt as a whole, so the room cannot (re)join yet:
   * `code` is `server-full` (the relay is at its connection limit) or
   * `too-many-connections-from-ip` (this address holds its share of connections) or
   * `rate-limited` (this address joined too often lately: the relay's join rate). Not
   * fatal: the room keeps retrying with backoff, `detail.retryInMs` is the wait before the
   * next attempt (`detail.url`: the relay), and `status` stays `connecting` or
   * `reconnecting` until an attempt is let in (then `connected`). Once per refused
   * attempt; an attempt that fails otherwise (the relay is down) fires nothing. Before the
   * first join, `joinRoom()` keeps retrying too (its `onRelayRefused` option hears each
   * refusal) and, once out of `connectAttempts`, rejects with `relay-unreachable` whose
   * `detail.lastRefusal` is the latest refusal's code.
   *
   * @example
   * ```ts
   * room.on('relay-refused', (err) =>
   *   show(err.code === 'server-full' ? 'relay full, retrying' : 'too many connections from here, retrying'));
   * room.on('status', (s) => show(s)); // `connected` again once capacity frees up
   * ```
   */
  'relay-refused': MeshpartyError;
  /**
   * A peer cut off for bad input (`maxStrikes` strikes, or `room.disconnect()`) tried to
   * connect again while banned, and was refused: code `bad-peer`, `detail.peer`,
   * `detail.retryInMs` (until its ban ends) and `detail.bans` (its cut-offs so far; each
   * doubles the ban). No connection was made for it. Once per ban and peer; later
   * attempts in the same ban are only logged.
   *
   * @example
   * ```ts
   * room.on('peer-refused', (err) => console.warn(`${err.detail?.peer} refused for ${err.detail?.retryInMs} ms`));
   * ```
   */
  'peer-refused': MeshpartyError;
  /** A peer's RTT was measured (heartbeat reply). */
  rtt: { id: PeerId; rttMs: number };
  /**
   * The room is closing: `leave()` was called, or the room ends for good (after its
   * `error`, e.g. `wrong-password`, or the relay refusing it for good), which leaves the
   * same way. Emitted first, while every connection is still open, before the goodbyes,
   * `peer-left`s and status `closed`. What a listener sends now goes out
   * ahead of the goodbye (behind backpressure too, within `farewellDrainMs`), so an upper
   * layer hands over what it still holds back (a Yjs provider stops here and sends the
   * edits it was merging).
   *
   * @example
   * ```ts
   * room.on('leaving', () => void room.broadcast(new TextEncoder().encode('bye for now')));
   * ```
   */
  leaving: Record<string, never>;
}

/**
 * A joined room: the local peer and its open connections to the others.
 *
 * @example
 * ```ts
 * const room = await joinRoom({ relay: 'ws://127.0.0.1:4444', room: 'demo' });
 * room.on('peer-joined', (p) => room.send(p.id, new TextEncoder().encode('hi')));
 * ```
 */
export interface Room {
  /** The room's name. */
  readonly name: string;
  /**
   * This peer's id (assigned by the relay; stable across relay reconnects). Empty until
   * the relay has accepted the first join (`joinRoom()` resolves after that; a
   * `createMemoryNetwork().join()` room has it a microtask later).
   */
  readonly selfId: PeerId;
  /** Peers with an open connection, by id. */
  readonly peers: ReadonlyMap<PeerId, PeerInfo>;
  readonly status: RoomStatus;
  /** Subscribe to room events; returns the unsubscribe function. */
  on<K extends keyof RoomEvents>(event: K, listener: (value: RoomEvents[K]) => void): () => void;
  /**
   * Get (creating on first use) a named channel. The same name returns the same channel
   * while it is open: held by the app, or in use (a listener or a claim not given up). A
   * channel none of these hold is let go, and the name then opens afresh, with either
   * reliability; messages reach only a channel in use.
   * Throws a MeshpartyError `channel-reliability-mismatch` when the name is open with the
   * other `reliability` than the one asked for, and `channel-id-collision` when another
   * name open in this room has the same wire id (PROTOCOL.md, "Frames").
   */
  channel(name: string, options?: { reliability?: Reliability }): Channel;
  /** Send on the default reliable channel (`default`) to one peer. */
  send(to: PeerId, data: Uint8Array): Promise<void>;
  /** Send on the default reliable channel to every connected peer. */
  broadcast(data: Uint8Array): Promise<void>;
  /**
   * Leave the relay room and every peer connection. First `leaving` is emitted, while
   * every connection is still open (what a listener sends goes out ahead of the goodbye;
   * open Yjs providers hand over their queued edits there). Then what is still queued to
   * each peer behind backpressure (sent before leave(), on any channel) is handed over,
   * for at most `farewellDrainMs` (what is left then is dropped: those sends reject with
   * `drain-timeout`, and a warning per peer counts them), and the peer gets a goodbye
   * after it and closes its end (it reports `peer-left` with reason `left`); a connection
   * still open after `farewellTimeoutMs` is closed from here. Resolves once every
   * connection is closed, usually a round trip after its last byte. Here, each connected
   * peer is reported `peer-left` (reason `closed`) and status becomes `closed` at once,
   * before it resolves, and sends are refused (`closed`). Idempotent: a second call,
   * also one from a `leaving`, `peer-left` or `status` listener of the first, returns the
   * first's promise (and every `leaving` listener still runs while the connections are open).
   *
   * @example
   * ```ts
   * await room.leave();
   * process.exit(); // Node with @roamhq/wrtc: see README, "WebRTC in Node"
   * ```
   */
  leave(): Promise<void>;
  /**
   * Close the connection to one peer that misbehaves (e.g. keeps sending malformed
   * messages on an upper layer's channel) and refuse it for a while: `banMs`, doubled for
   * each earlier cut-off of that id, whether it stays in the room or leaves and rejoins
   * (its attempts meanwhile are `peer-refused` events). Reported as `peer-left` with
   * reason `disconnected: <reason>`. `options.banMs`: refuse it at least this long (the
   * mesh's own back-off when that is longer), for a layer that blocks the peer longer
   * than the mesh would (a Yjs provider's `blockForMs`): cut off again each time it came
   * back sooner, each cut would count as another offence and double the ban. A negative
   * or NaN `banMs` throws `bad-argument`; one past 2^31 - 1 ms (about 24 days) is taken as
   * that. Optional so rooms written before it still type-check; upper layers call it as
   * `room.disconnect?.(id, reason)`.
   *
   * @example
   * ```ts
   * room.disconnect?.('p1', 'spamming the chat');
   * room.disconnect?.('p2', 'bad edits', { banMs: 10 * 60_000 }); // out for 10 minutes at least
   * ```
   */
  disconnect?(peer: PeerId, reason: string, options?: { banMs?: number }): void;
  /**
   * Count one strike against `peer` for a bad message an upper layer dropped (malformed,
   * over a limit). The mesh counts these with its own (malformed frames) per peer id for
   * the life of the room: `maxStrikes` within `strikeExpiryMs` cut the peer off as
   * `misbehaving`, as `disconnect()` does. Optional like `disconnect`: call it as
   * `room.strike?.(id, reason)`.
   *
   * @example
   * ```ts
   * chat.on('message', ({ from, data }) => { if (data.byteLength > 1000) room.strike?.(from, 'chat message over 1000 bytes'); });
   * ```
   */
  strike?(peer: PeerId, reason: string): void;
}
