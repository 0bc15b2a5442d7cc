/**
 * The mesh: a room of peers, one transport per pair, named channels over them.
 *
 * Membership comes from a {@link Signaling} (the relay client, or the in-memory one);
 * connections come from a {@link PeerTransportFactory}. This file holds the policy: who
 * connects (the glare rule in `glare.ts`), when to retry, liveness (heartbeats), room
 * capacity, password checks, and routing of messages to channels. The frame protocol of
 * one connection lives in `connection.ts`.
 */
import { type Clock, type TimerHandle, realClock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import type { Signaling, SignalingStatus } from '../signaling-client/types.js';
import type { PeerTransportFactory } from '../transport/types.js';
import { type ChannelHost, MeshChannel } from './channel.js';
import { Connection, type ConnectionHooks } from './connection.js';
import { type SignalEnvelope, isUndecryptableNotice, newSessionId, parseEnvelope, shouldInitiate } from './glare.js';
import { type Logger, consoleLogger } from './logger.js';
import { deriveSignalKey, openSignal, sealSignal } from './signal-crypto.js';
import type { Channel, PeerId, PeerInfo, Reliability, Room, RoomEvents, RoomStatus } from './types.js';

/** Options of {@link createMesh}. */
export interface MeshOptions {
  /** Room name (also salts the password key). */
  room: string;
  /** Who introduces peers: the relay client or the in-memory signaling. */
  signaling: Signaling;
  /** Creates one transport per remote peer (WebRTC or in-memory). */
  transports: PeerTransportFactory;
  /** Encrypt every signal end to end with a key derived from this password and the room. */
  password?: string;
  /** Most peers in the room, this one included (default 16). */
  maxPeers?: number;
  /** Largest message a channel carries, in bytes (default 64 MiB). */
  maxMessageBytes?: number;
  /** Heartbeat period (default 500 ms). */
  heartbeatIntervalMs?: number;
  /** A connection silent this long is closed and its peer reported `peer-left` (default 2250 ms). */
  peerTimeoutMs?: number;
  /**
   * When the relay reports that a peer with an open connection left, it is probed; no
   * frame from it within this long means it is gone (default 1000 ms). A killed process
   * drops its relay socket at once, so this beats waiting out `peerTimeoutMs`.
   */
  leftProbeMs?: number;
  /** A connection not open after this long is abandoned and retried (default 15 s). */
  connectTimeoutMs?: number;
  /** Malformed frames tolerated from one connection before it is cut (default 10). */
  maxStrikes?: number;
  /** Bytes one peer's reliable queue may hold before `send` rejects with `queue-full` (default 256 MiB). */
  maxQueuedBytes?: number;
  /**
   * Bytes a data channel may buffer before the queue waits for `drain` (default: the largest of
   * 1 MiB, 4 x the transport's maxMessageSize and 2 x its lowWaterMark). Higher can add
   * throughput on long fat links at the cost of latency for later messages.
   */
  highWaterMarkBytes?: number;
  /** Time source for heartbeats, timeouts and retries (default: the real clock). */
  clock?: Clock;
  /** Where dropped input and recoveries are reported (default: warnings to the console). */
  logger?: Logger;
}

const DEFAULTS = {
  maxPeers: 16,
  maxMessageBytes: 64 * 1024 * 1024,
  heartbeatIntervalMs: 500,
  peerTimeoutMs: 2250,
  leftProbeMs: 1000,
  connectTimeoutMs: 15_000,
  maxStrikes: 10,
  maxQueuedBytes: 256 * 1024 * 1024,
};

/** Retry delays of an initiator after a failed connection: 250 ms doubling, at most 5 s. */
const retryDelay = (attempt: number) => Math.min(250 * 2 ** attempt, 5000);

/** Everything the mesh knows about one remote peer. */
interface RemotePeer {
  id: PeerId;
  /** Listed by signaling as a member of the room right now. */
  inRoom: boolean;
  conn: Connection | undefined;
  info: { id: PeerId; rttMs: number | undefined };
  /** Sessions already closed: their late signals are dropped. */
  dead: string[];
  attempts: number;
  retryTimer: TimerHandle | undefined;
  connectTimer: TimerHandle | undefined;
  /** Said goodbye; not reconnected until signaling announces it again. */
  left: boolean;
  /** Cut off for malformed input, until it leaves the room. */
  banned: boolean;
  /** Signals cannot be decrypted either way (different password). */
  mismatch: boolean;
  inbound: Promise<void>;
  outbound: Promise<void>;
}

const DEFAULT_CHANNEL = 'default';

/** Relay refusals that happen in normal operation (races with peers leaving); logged, not emitted. */
const ROUTINE_RELAY_REFUSALS = new Set(['unknown-peer', 'not-in-room']);

/**
 * Join a room as a mesh peer. Returns at once; peers appear through `peer-joined` as
 * their connections open. Normally reached through `joinRoom()` (WebRTC) or
 * `createMemoryNetwork().join()` (tests); use it directly to plug in your own signaling
 * or transport.
 *
 * @example
 * ```ts
 * const room = createMesh({ room: 'demo', signaling, transports });
 * const chat = room.channel('chat');
 * chat.on('message', ({ from, data }) => console.log(from, new TextDecoder().decode(data)));
 * room.on('peer-joined', ({ id }) => chat.send(id, new TextEncoder().encode('hi')));
 * ```
 */
export function createMesh(options: MeshOptions): Room {
  const opts = { ...DEFAULTS, ...stripUndefined(options) };
  const clock = options.clock ?? realClock();
  const log = options.logger ?? consoleLogger();
  const { signaling, transports } = options;
  const events = new Emitter<RoomEvents>((err) => log.warn('a room listener threw', { error: String(err) }));
  const remotes = new Map<PeerId, RemotePeer>();
  const open = new Map<PeerId, PeerInfo>();
  const channels = new Map<string, MeshChannel>();
  const channelsById = new Map<number, MeshChannel>();
  let selfId = '';
  let status: RoomStatus = 'connecting';
  let closed = false;
  /** Peers already in the room when we first joined: their password is the room's. */
  let olderPeers = new Set<PeerId>();
  let joinedOnce = false;
  /** Our id is new at the relay since the last join: nobody holds a connection to an older us. */
  let freshIdentity = false;
  let heartbeatTimer: TimerHandle | undefined;
  const key = options.password === undefined ? undefined : deriveSignalKey(options.password, options.room);
  key?.catch((err) => fail(new MeshpartyError('crypto-unavailable', `cannot derive the room key: ${String(err)}`)));

  const setStatus = (next: RoomStatus) => {
    if (status === next || status === 'closed') return;
    status = next;
    events.emit('status', next);
  };

  const fail = (err: MeshpartyError) => {
    if (closed) return;
    events.emit('error', err);
    leave();
  };

  // ------------------------------------------------------------------ peers

  const remote = (id: PeerId): RemotePeer => {
    let r = remotes.get(id);
    if (!r) {
      r = {
        id,
        inRoom: false,
        conn: undefined,
        info: { id, rttMs: undefined },
        dead: [],
        attempts: 0,
        retryTimer: undefined,
        connectTimer: undefined,
        left: false,
        banned: false,
        mismatch: false,
        inbound: Promise.resolve(),
        outbound: Promise.resolve(),
      };
      remotes.set(id, r);
    }
    return r;
  };

  const clearTimers = (r: RemotePeer) => {
    if (r.retryTimer !== undefined) clock.clearTimeout(r.retryTimer);
    if (r.connectTimer !== undefined) clock.clearTimeout(r.connectTimer);
    r.retryTimer = r.connectTimer = undefined;
  };

  /** Connections (open or forming) count against maxPeers. */
  const hasRoomFor = (r: RemotePeer) => {
    if (r.conn) return true;
    let n = 0;
    for (const other of remotes.values()) if (other.conn) n++;
    return n + 1 < opts.maxPeers;
  };

  const mayConnect = (r: RemotePeer) => !closed && selfId !== '' && r.inRoom && !r.left && !r.banned && !r.mismatch;

  /** Make sure a connection to `r` exists or is on its way, following the glare rule. */
  const consider = (r: RemotePeer) => {
    if (!mayConnect(r) || r.conn) return;
    if (!shouldInitiate(selfId, r.id)) {
      // The initiator offers on its own; this only speeds up a peer that kept a stale
      // connection to our previous incarnation (it replaces an *open* one on request).
      // With an id the relay has just made up there is none: a room forming at once
      // saves one relay message per pair.
      if (!freshIdentity) sendEnvelope(r, { r: null });
      return;
    }
    if (r.retryTimer !== undefined) return;
    if (!hasRoomFor(r)) return log.warn('room at maxPeers: not connecting', { peer: r.id, maxPeers: opts.maxPeers });
    startConnection(r, true, newSessionId());
  };

  const startConnection = (r: RemotePeer, initiator: boolean, session: string): Connection | undefined => {
    clearTimers(r);
    let transport;
    try {
      transport = transports.create({ localId: selfId, remoteId: r.id, initiator });
    } catch (err) {
      // A setup problem (no WebRTC implementation, bad ICE config): retrying cannot help.
      events.emit('error', new MeshpartyError('transport-failed', `cannot create a connection to ${r.id}: ${String(err)}`, { peer: r.id }));
      return undefined;
    }
    const conn = new Connection(
      transport,
      session,
      { clock, maxMessageBytes: opts.maxMessageBytes, maxQueuedBytes: opts.maxQueuedBytes, highWaterMark: options.highWaterMarkBytes },
      hooks,
    );
    r.conn = conn;
    r.connectTimer = clock.setTimeout(() => {
      r.connectTimer = undefined;
      if (r.conn === conn && !conn.isOpen) drop(r, 'connect-timeout', true);
    }, opts.connectTimeoutMs);
    return conn;
  };

  /**
   * Forget `r`'s connection: dispose it, report `peer-left` if it was open, and (when
   * `recover`) start over: the initiator retries with backoff, the responder asks the
   * initiator to restart.
   */
  const drop = (r: RemotePeer, reason: string, recover: boolean, err?: MeshpartyError) => {
    const conn = r.conn;
    if (!conn) return;
    r.conn = undefined;
    clearTimers(r);
    r.dead.push(conn.session);
    if (r.dead.length > 16) r.dead.shift();
    conn.dispose(reason, err);
    if (conn.wasOpen && open.delete(r.id)) {
      r.info.rttMs = undefined;
      events.emit('peer-left', { id: r.id, reason });
    }
    if (recover) recoverLater(r, conn.session, reason === 'restart-requested');
  };

  const recoverLater = (r: RemotePeer, deadSession: string, now: boolean) => {
    if (!mayConnect(r)) {
      if (!r.inRoom && !r.conn) forget(r);
      return;
    }
    if (!shouldInitiate(selfId, r.id)) {
      sendEnvelope(r, { r: deadSession });
      return;
    }
    const delay = now ? 0 : retryDelay(r.attempts++);
    r.retryTimer = clock.setTimeout(() => {
      r.retryTimer = undefined;
      consider(r);
    }, delay);
  };

  const forget = (r: RemotePeer) => {
    clearTimers(r);
    if (!r.conn) remotes.delete(r.id);
  };

  const strike = (r: RemotePeer, conn: Connection, reason: string) => {
    conn.strikes++;
    log.warn('dropped bad input from peer', { peer: r.id, reason, strikes: conn.strikes });
    if (conn.strikes >= opts.maxStrikes && r.conn === conn) {
      r.banned = true;
      drop(r, 'misbehaving', false, new MeshpartyError('bad-peer', `peer ${r.id} sent ${conn.strikes} malformed frames`, { peer: r.id }));
    }
  };

  const hooks: ConnectionHooks = {
    onSignal: (conn, data) => {
      const r = remotes.get(conn.remoteId);
      if (r?.conn === conn) sendEnvelope(r, { s: conn.session, d: data });
    },
    onOpen: (conn) => {
      const r = remotes.get(conn.remoteId);
      if (!r || r.conn !== conn) return;
      clearTimers(r);
      r.attempts = 0;
      open.set(r.id, r.info);
      events.emit('peer-joined', r.info);
      conn.ping(clock.now());
    },
    onGone: (conn, reason) => {
      const r = remotes.get(conn.remoteId);
      if (r?.conn === conn) drop(r, reason, true);
    },
    onMessage: (conn, id, reliability, data) => {
      const r = remotes.get(conn.remoteId);
      if (!r || r.conn !== conn) return;
      const ch = channelsById.get(id);
      // Not a strike: the other side may simply have opened a channel we have not (yet).
      if (!ch) return log.debug('message for a channel not open here', { peer: r.id, channel: id });
      if (ch.reliability !== reliability) return strike(r, conn, `${reliability} frame for ${ch.reliability} channel "${ch.name}"`);
      ch.events.emit('message', { from: r.id, data });
    },
    onRtt: (conn, sample) => {
      const r = remotes.get(conn.remoteId);
      if (!r || r.conn !== conn) return;
      // Smoothed like TCP's SRTT (RFC 6298, alpha 1/8), so one slow pong does not jump the figure.
      r.info.rttMs = r.info.rttMs === undefined ? sample : r.info.rttMs + (sample - r.info.rttMs) / 8;
      events.emit('rtt', { id: r.id, rttMs: r.info.rttMs });
    },
    onBye: (conn) => {
      const r = remotes.get(conn.remoteId);
      if (!r || r.conn !== conn) return;
      r.left = true;
      drop(r, 'left', false);
      if (!r.inRoom) forget(r);
    },
    onBad: (conn, reason) => {
      const r = remotes.get(conn.remoteId);
      if (r && r.conn === conn) strike(r, conn, reason);
    },
    onTransportError: (conn, err) => log.warn('peer connection error', { peer: conn.remoteId, code: err.code, message: err.message }),
  };

  // ------------------------------------------------------------------ signaling

  /** Send an envelope to `r`, encrypted when the room has a password; order per peer is kept. */
  const sendEnvelope = (r: RemotePeer, env: SignalEnvelope) => {
    if (!key) return signaling.sendSignal(r.id, env);
    const from = selfId;
    r.outbound = r.outbound
      .then(async () => {
        const text = await sealSignal(await key, from, r.id, env);
        if (!closed) signaling.sendSignal(r.id, text);
      })
      .catch((err) => log.warn('could not encrypt a signal', { peer: r.id, error: String(err) }));
  };

  const onSignal = ({ from, data }: { from: PeerId; data: unknown }) => {
    if (closed || from === selfId) return;
    const r = remote(from);
    // Already known to use another password: one notice was enough.
    if (r.mismatch) return;
    if (isUndecryptableNotice(data)) return passwordMismatch(r, false);
    if (!key) {
      if (typeof data === 'string') return passwordMismatch(r, true);
      return onEnvelope(r, data);
    }
    const to = selfId;
    // Decryption is async; chaining per sender keeps the offer ahead of its candidates.
    r.inbound = r.inbound.then(async () => {
      let plain: unknown;
      try {
        if (typeof data !== 'string') throw new Error('plaintext signal in a password room');
        plain = await openSignal(await key, from, to, data);
      } catch {
        if (!r.mismatch) passwordMismatch(r, true);
        return;
      }
      if (!closed) onEnvelope(r, plain);
    });
  };

  /**
   * Signals from `r` cannot be read with our key (or ours with theirs). The peers that
   * were in the room before us define its password, so if `r` is one of them the fault
   * is ours: report `wrong-password` and leave. Otherwise `r` is the newcomer at fault:
   * never connect to it (it learns through our notice and leaves).
   */
  const passwordMismatch = (r: RemotePeer, notify: boolean) => {
    if (closed) return;
    if (notify) signaling.sendSignal(r.id, { x: 1 });
    if (olderPeers.has(r.id)) {
      return fail(new MeshpartyError('wrong-password', `signals from peer ${r.id} cannot be decrypted: the room password differs`, { peer: r.id }));
    }
    if (!r.mismatch) log.warn('peer uses a different room password: not connecting', { peer: r.id });
    r.mismatch = true;
    drop(r, 'wrong-password', false);
  };

  const onEnvelope = (r: RemotePeer, value: unknown) => {
    if (closed || r.banned || r.mismatch) return;
    const env = parseEnvelope(value);
    if (!env) return log.warn('dropped malformed signal', { peer: r.id });
    const initiator = shouldInitiate(selfId, r.id);
    if ('r' in env) {
      if (!initiator) return log.debug('restart request from the initiator side ignored', { peer: r.id });
      r.inRoom = true;
      r.left = false;
      const cur = r.conn;
      if (!cur) {
        if (r.retryTimer !== undefined) clock.clearTimeout(r.retryTimer);
        r.retryTimer = undefined;
        return consider(r);
      }
      // "I have none" only means something once ours is open: while ours is forming, the
      // offer is already on its way to the peer (signals of one pair arrive in order).
      if (env.r === null ? cur.isOpen : env.r === cur.session) drop(r, 'restart-requested', true);
      return;
    }
    if (r.conn?.session === env.s) return r.conn.transport.signal(env.d);
    if (initiator || r.dead.includes(env.s)) return log.debug('signal for a closed or unknown session dropped', { peer: r.id });
    // A new session from the initiator: it started over, so our connection (if any) is stale.
    r.inRoom = true;
    r.left = false;
    if (!hasRoomFor(r)) return log.warn('room at maxPeers: refusing a connection', { peer: r.id, maxPeers: opts.maxPeers });
    drop(r, 'replaced', false);
    startConnection(r, false, env.s)?.transport.signal(env.d);
  };

  const onJoined = ({ selfId: id, peers, fresh }: { selfId: PeerId; peers: PeerId[]; fresh?: boolean }) => {
    if (closed) return;
    freshIdentity = fresh === true;
    if (selfId && id !== selfId) {
      // The relay gave us a new identity: every connection was made under the old one.
      log.warn('peer id changed on rejoin; reconnecting everyone', { from: selfId, to: id });
      for (const r of remotes.values()) drop(r, 'self-id-changed', false);
      remotes.clear();
    }
    selfId = id;
    const others = peers.filter((p) => p !== id);
    if (!joinedOnce) {
      joinedOnce = true;
      olderPeers = new Set(others);
      if (others.length + 1 > opts.maxPeers) {
        return fail(new MeshpartyError('room-full', `room "${options.room}" already has ${others.length} peers (maxPeers ${opts.maxPeers})`, { peers: others.length, maxPeers: opts.maxPeers }));
      }
    }
    const listed = new Set(others);
    for (const r of [...remotes.values()]) {
      r.inRoom = listed.has(r.id);
      if (!r.inRoom && !r.conn) forget(r);
    }
    for (const p of others) {
      const r = remote(p);
      r.inRoom = true;
      consider(r);
    }
  };

  const mapStatus = (s: SignalingStatus) => {
    if (s === 'closed') {
      // The signaling gave up for good (fatal relay error): nothing more can join us.
      if (!closed) leave();
      return;
    }
    setStatus(s);
  };

  // ------------------------------------------------------------------ heartbeats

  let lastTick = clock.now();
  const heartbeat = () => {
    heartbeatTimer = undefined;
    if (closed) return;
    const now = clock.now();
    // A tick far behind schedule means this process stalled (GC, a busy loop, a suspended
    // tab): frames from peers may be waiting unread, so silence proves nothing this round.
    const stalled = now - lastTick > 2 * opts.heartbeatIntervalMs;
    lastTick = now;
    for (const r of [...remotes.values()]) {
      const conn = r.conn;
      if (!conn?.isOpen) continue;
      if (stalled) conn.lastHeard = Math.max(conn.lastHeard, now - opts.heartbeatIntervalMs);
      if (now - conn.lastHeard > opts.peerTimeoutMs) drop(r, 'timeout', true);
      else conn.heartbeat(opts.heartbeatIntervalMs);
    }
    heartbeatTimer = clock.setTimeout(heartbeat, opts.heartbeatIntervalMs);
  };

  /**
   * The relay says `r` left, but its connection is open: the relay may be the one in
   * trouble, so ask the peer itself, one window of `leftProbeMs` at a time, for as long
   * as the relay does not have it back. A window with no frame from it means it is gone.
   * A window that heard something (an answer, or a frame already in flight from a peer
   * that has just died) starts the next one. A check that runs late (this process
   * stalled) gets one more window, since the answer may be waiting unread.
   */
  const probeLeaver = (r: RemotePeer, conn: Connection) => {
    const window = (since: number) => {
      conn.ping(since);
      const due = since + opts.leftProbeMs;
      clock.setTimeout(() => {
        if (closed || r.conn !== conn || !conn.isOpen || r.inRoom) return;
        const now = clock.now();
        if (conn.lastHeard > since || now - due > opts.heartbeatIntervalMs) return window(now);
        drop(r, 'vanished', true);
      }, opts.leftProbeMs);
    };
    window(clock.now());
  };

  // ------------------------------------------------------------------ channels

  const tooLarge = (data: Uint8Array) =>
    new MeshpartyError('message-too-large', `message of ${data.byteLength} bytes over the ${opts.maxMessageBytes}-byte limit`, {
      bytes: data.byteLength,
      maxMessageBytes: opts.maxMessageBytes,
    });

  const host: ChannelHost = {
    sendOn(ch, to, data) {
      if (closed) return Promise.reject(new MeshpartyError('closed', 'the room is closed'));
      if (!(data instanceof Uint8Array)) return Promise.reject(new MeshpartyError('bad-argument', 'data must be a Uint8Array'));
      if (data.byteLength > opts.maxMessageBytes) return Promise.reject(tooLarge(data));
      const conn = remotes.get(to)?.conn;
      if (!conn?.isOpen) return Promise.reject(new MeshpartyError('unknown-peer', `no open connection to peer ${to}`, { peer: to }));
      return conn.send(ch.reliability, ch.id, data);
    },
    async broadcastOn(ch, data) {
      if (closed) throw new MeshpartyError('closed', 'the room is closed');
      if (data.byteLength > opts.maxMessageBytes) throw tooLarge(data);
      const results = await Promise.allSettled([...open.keys()].map((id) => host.sendOn(ch, id, data)));
      // A peer leaving mid-broadcast is not the sender's failure; a size refusal is.
      for (const res of results) {
        if (res.status === 'rejected' && (res.reason as MeshpartyError)?.code === 'message-too-large') throw res.reason;
      }
    },
    queuedOn(ch, to) {
      return remotes.get(to)?.conn?.queue?.queuedBytes(ch.id) ?? 0;
    },
  };

  const channel = (name: string, o?: { reliability?: Reliability }): Channel => {
    const reliability = o?.reliability ?? 'reliable';
    const existing = channels.get(name);
    if (existing) {
      if (o?.reliability && existing.reliability !== reliability) {
        throw new MeshpartyError('channel-reliability-mismatch', `channel "${name}" is already ${existing.reliability}`);
      }
      return existing;
    }
    const ch = new MeshChannel(name, reliability, host);
    const clash = channelsById.get(ch.id);
    if (clash) throw new MeshpartyError('channel-id-collision', `channel names "${name}" and "${clash.name}" hash to the same id; rename one`);
    channels.set(name, ch);
    channelsById.set(ch.id, ch);
    return ch;
  };

  // ------------------------------------------------------------------ lifecycle

  const leave = (): Promise<void> => {
    if (closed) return Promise.resolve();
    closed = true;
    if (heartbeatTimer !== undefined) clock.clearTimeout(heartbeatTimer);
    for (const r of [...remotes.values()]) {
      r.conn?.bye();
      drop(r, 'closed', false);
      clearTimers(r);
    }
    remotes.clear();
    for (const off of offs) off();
    signaling.close();
    status = 'closed';
    events.emit('status', 'closed');
    return Promise.resolve();
  };

  const offs = [
    signaling.on('status', mapStatus),
    signaling.on('error', (err) => {
      if (closed) return;
      // A signal to a peer that has just left is refused by the relay: routine, not the app's concern.
      if (ROUTINE_RELAY_REFUSALS.has(err.code)) return log.debug('relay refused a signal', { code: err.code });
      events.emit('error', err);
    }),
    signaling.on('joined', onJoined),
    signaling.on('peer-joined', (id) => {
      if (closed || id === selfId) return;
      const r = remote(id);
      r.inRoom = true;
      r.left = false;
      consider(r);
    }),
    signaling.on('peer-left', (id) => {
      const r = remotes.get(id);
      if (!r) return;
      // An open connection is kept unless the peer itself stays silent: the relay may be
      // the one in trouble.
      r.inRoom = false;
      r.banned = r.mismatch = false;
      if (r.conn?.isOpen) probeLeaver(r, r.conn);
      else if (r.conn) drop(r, 'left-room', false);
      if (!r.conn) forget(r);
    }),
    signaling.on('signal', onSignal),
  ];

  heartbeatTimer = clock.setTimeout(heartbeat, opts.heartbeatIntervalMs);
  signaling.join();

  const defaultChannel = channel(DEFAULT_CHANNEL);
  return {
    name: options.room,
    get selfId() {
      return selfId;
    },
    peers: open,
    get status() {
      return status;
    },
    on: (event, listener) => events.on(event, listener),
    channel,
    send: (to, data) => defaultChannel.send(to, data),
    broadcast: (data) => defaultChannel.broadcast(data),
    leave,
    disconnect(peer, reason) {
      const r = remotes.get(peer);
      if (!r || closed) return;
      log.warn('cutting off peer', { peer, reason });
      r.banned = true;
      drop(r, `disconnected: ${reason}`, false, new MeshpartyError('bad-peer', `peer ${peer} cut off: ${reason}`, { peer }));
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
