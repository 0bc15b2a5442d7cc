/**
 * Connection lifecycle of one mesh: when a connection to a peer is made (the glare rule
 * in `glare.ts` decides who offers), retried, dropped and forgotten, and what each
 * connection's events do to the room (`peer-joined`, `peer-left`, messages to channels,
 * RTT, strikes for bad input).
 */
import { MeshpartyError } from '../util/errors.js';
import type { PeerTransportFactory } from '../transport/types.js';
import { Connection, type ConnectionHooks } from './connection.js';
import { type SignalEnvelope, newSessionId, shouldInitiate } from './glare.js';
import type { MeshContext, RemotePeer } from './mesh-context.js';
import type { PeerId } from './types.js';

/**
 * Reason for dropping a connection still forming whose signals may have been dropped
 * (sent while we were out of the relay, which drops them): it starts over at once,
 * instead of waiting out its connect timeout for an offer or answer that never left.
 */
export const SIGNALS_LOST = 'signals-lost';

/** Retry delays of an initiator after a failed connection: 250 ms doubling, at most 5 s. */
const retryDelay = (attempt: number) => Math.min(250 * 2 ** attempt, 5000);

/** What the lifecycle offers the rest of the mesh. */
export interface PeerLifecycle {
  /**
   * Make sure a connection to `r` exists or is on its way, following the glare rule; not
   * before `conduct.waitMs` (a ban, a password mismatch) has passed.
   */
  consider(r: RemotePeer): void;
  /** A new connection to `r` (as initiator or for the initiator's `session`); undefined if none can be made. */
  startConnection(r: RemotePeer, initiator: boolean, session: string): Connection | undefined;
  /** Forget `r`'s connection (reporting `peer-left` if it was open) and, when `recover`, start over. */
  drop(r: RemotePeer, reason: string, recover: boolean, err?: MeshpartyError): void;
  /** Forget `r` altogether once it has no connection. */
  forget(r: RemotePeer): void;
  /** Cancel `r`'s pending retry and connect timeout, and its wait for a free slot at maxPeers or for its ban to end. */
  clearTimers(r: RemotePeer): void;
  /** Connections (open or forming) count against maxPeers. */
  hasRoomFor(r: RemotePeer): boolean;
  /** One strike for bad input from `id` (any layer); at maxStrikes within strikeExpiryMs it is cut off as `misbehaving`. */
  strike(id: PeerId, reason: string): void;
  /**
   * Ban `id` (a back-off growing with each ban, or `atLeastMs` when longer) and drop its
   * connection, reporting `peer-left` with `reason`.
   */
  cutOff(id: PeerId, reason: string, err: MeshpartyError, atLeastMs?: number): void;
}

/**
 * The lifecycle of `ctx`'s connections, made by `transports`; `send` delivers an
 * envelope to a peer through signaling.
 *
 * @example
 * ```ts
 * const peers = createPeerLifecycle(ctx, transports, (r, env) => signals.sendEnvelope(r, env));
 * peers.consider(remotePeer(ctx, 'b'));
 * ```
 */
export function createPeerLifecycle(
  ctx: MeshContext,
  transports: PeerTransportFactory,
  send: (r: RemotePeer, env: SignalEnvelope) => void,
): PeerLifecycle {
  const { clock, log, opts, remotes, open, events, channelsById, conduct } = ctx;

  /**
   * Peers this side would offer to but did not, at maxPeers. Only this side offers to them
   * (the glare rule), so each is considered again when one of our connections goes away;
   * without that, a peer that came while we were full stayed unconnected for good.
   */
  const waitingForRoom = new Set<RemotePeer>();
  const considerWaiting = () => {
    for (const r of [...waitingForRoom]) {
      waitingForRoom.delete(r);
      consider(r);
    }
  };

  const clearTimers = (r: RemotePeer) => {
    if (r.retryTimer !== undefined) clock.clearTimeout(r.retryTimer);
    if (r.connectTimer !== undefined) clock.clearTimeout(r.connectTimer);
    if (r.waitTimer !== undefined) clock.clearTimeout(r.waitTimer);
    r.retryTimer = r.connectTimer = r.waitTimer = undefined;
    waitingForRoom.delete(r);
  };

  /** Connections (open or forming) count against maxPeers. */
  const hasRoomFor = (r: RemotePeer) => {
    if (r.conn) return true;
    let n = 0;
    for (const other of remotes.values()) if (other.conn) n++;
    return n + 1 < opts.maxPeers;
  };

  const mayConnect = (r: RemotePeer) => !ctx.closed && ctx.selfId !== '' && r.inRoom && !r.left && !r.mismatch;

  /**
   * Make sure a connection to `r` exists or is on its way, following the glare rule.
   * `ask`: as the responder, ask the initiator to offer even with a fresh identity (a ban
   * has ended: the initiator may be waiting out a connect timeout for an offer we dropped).
   */
  const consider = (r: RemotePeer, ask = false) => {
    if (!mayConnect(r) || r.conn || remotes.get(r.id) !== r) return; // a forgotten record never connects
    const wait = conduct.waitMs(r.id);
    if (wait > 0) return considerAfter(r, wait);
    if (!shouldInitiate(ctx.selfId, r.id)) {
      // The initiator offers on its own; this only speeds up a peer that kept a stale
      // connection to our previous incarnation (it replaces an *open* one on request).
      // With an id the relay has just made up there is none: a room forming at once
      // saves one relay message per pair.
      if (!ctx.freshIdentity || ask) send(r, { r: null });
      return;
    }
    if (r.retryTimer !== undefined) return;
    if (!hasRoomFor(r)) {
      if (!waitingForRoom.has(r)) log.warn('room at maxPeers: not connecting', { peer: r.id, maxPeers: opts.maxPeers });
      waitingForRoom.add(r);
      return;
    }
    startConnection(r, true, newSessionId());
  };

  /** Consider `r` again in `ms` (its ban or password-mismatch wait), once, however often it is asked. */
  const considerAfter = (r: RemotePeer, ms: number) => {
    if (r.waitTimer !== undefined) clock.clearTimeout(r.waitTimer);
    r.waitTimer = clock.setTimeout(() => {
      r.waitTimer = undefined;
      consider(r, true);
    }, ms);
  };

  const startConnection = (r: RemotePeer, initiator: boolean, session: string): Connection | undefined => {
    clearTimers(r);
    // A `peer-left` listener of the connection this one replaces may have left the room:
    // a transport made now would outlive leave() until its connect timeout.
    if (ctx.closed) return undefined;
    let transport;
    try {
      transport = transports.create({ localId: ctx.selfId, remoteId: r.id, initiator });
    } catch (err) {
      // Mostly a setup problem (WebRTC turned off by a setting or an extension, a bad ICE
      // config), but also a browser at its limit of peer connections, which frees up. The
      // initiator tries again with the usual backoff (the responder tries with the
      // initiator's next offer): without it, a failure during the join (before joinRoom
      // resolves, so before the app listens) was never heard of, and the peer stayed
      // unconnected for good even once connections could be made again.
      events.emit('error', new MeshpartyError('transport-failed', `cannot create a connection to ${r.id}: ${String(err)}`, { peer: r.id }));
      if (initiator && mayConnect(r) && r.retryTimer === undefined) {
        r.retryTimer = clock.setTimeout(() => {
          r.retryTimer = undefined;
          consider(r);
        }, retryDelay(r.attempts++));
      }
      return undefined;
    }
    const conn = new Connection(
      transport,
      session,
      { clock, maxMessageBytes: opts.maxMessageBytes, maxQueuedBytes: opts.maxQueuedBytes, highWaterMark: opts.highWaterMarkBytes },
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
    if (recover) recoverLater(r, conn.session, reason === 'restart-requested' || reason === SIGNALS_LOST);
    // A connection slot is free: a peer that waited for one may take it.
    if (waitingForRoom.size > 0) considerWaiting();
  };

  const recoverLater = (r: RemotePeer, deadSession: string, now: boolean) => {
    if (!mayConnect(r)) {
      if (!r.inRoom && !r.conn) forget(r);
      return;
    }
    if (!shouldInitiate(ctx.selfId, r.id)) {
      send(r, { r: deadSession });
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

  const strike = (id: PeerId, reason: string) => {
    if (ctx.closed || id === ctx.selfId) return;
    const strikes = conduct.strike(id);
    log.warn('dropped bad input from peer', { peer: id, reason, strikes });
    if (strikes < opts.maxStrikes) return;
    cutOff(id, 'misbehaving', new MeshpartyError('bad-peer', `peer ${id} sent ${strikes} bad messages within ${opts.strikeExpiryMs} ms`, { peer: id, strikes }));
  };

  const cutOff = (id: PeerId, reason: string, err: MeshpartyError, atLeastMs = 0) => {
    if (!(atLeastMs >= 0)) throw new MeshpartyError('bad-argument', `banMs must be a number >= 0, got ${String(atLeastMs)}`, { peer: id });
    if (ctx.closed || id === ctx.selfId) return;
    const bannedForMs = conduct.ban(id, atLeastMs);
    log.warn('cutting off peer', { peer: id, reason, bannedForMs, bans: conduct.bans(id) });
    const r = remotes.get(id);
    if (!r) return; // not in the room now: it is refused if it comes back within the ban
    drop(r, reason, false, err);
    consider(r); // waits out the ban while the peer stays in the room
  };

  const hooks: ConnectionHooks = {
    onSignal: (conn, data) => {
      const r = remotes.get(conn.remoteId);
      if (r?.conn === conn) send(r, { s: conn.session, d: data });
    },
    onOpen: (conn) => {
      const r = remotes.get(conn.remoteId);
      if (!r || r.conn !== conn) return;
      clearTimers(r);
      r.attempts = 0;
      r.verified = true;
      conduct.matched(r.id);
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
      if (ch.reliability !== reliability) return strike(r.id, `${reliability} frame for ${ch.reliability} channel "${ch.name}"`);
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
      // Signaling reported the peer gone and then back while this connection stayed open
      // (see `announced`): the BYE is the goodbye of a previous process, and the one in the
      // room now (same id, restarted) is connected anew. Kept out instead, a restarted
      // responder was never offered to again: it asks once on joining, and that ask is
      // ignored while the old connection still delivers (its last frames in flight on a
      // slow link).
      if (conn.announcedAgain && r.inRoom) return drop(r, 'left', true);
      r.left = true;
      drop(r, 'left', false);
      if (!r.inRoom) forget(r);
    },
    onBad: (conn, reason) => {
      const r = remotes.get(conn.remoteId);
      if (r && r.conn === conn) strike(r.id, reason);
    },
    onTransportError: (conn, err) => log.warn('peer connection error', { peer: conn.remoteId, code: err.code, message: err.message }),
  };

  return { consider, startConnection, drop, forget, clearTimers, hasRoomFor, strike, cutOff };
}
