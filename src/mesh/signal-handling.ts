/**
 * Signal handling of one mesh: envelopes to and from peers through signaling (sealed
 * when the room has a password), what a signal does to a connection (glare rule, new
 * sessions, restart requests), password mismatches, and the relay's `joined` (own id,
 * who is there, room capacity).
 */
import { MeshpartyError } from '../util/errors.js';
import type { Signaling } from '../signaling-client/types.js';
import type { TimerHandle } from '../util/clock.js';
import { type SignalEnvelope, isUndecryptableNotice, parseEnvelope, shouldInitiate } from './glare.js';
import { type MeshContext, type RemotePeer, announced, remotePeer } from './mesh-context.js';
import type { Connection } from './connection.js';
import { type PeerLifecycle, SIGNALS_LOST } from './peer-lifecycle.js';
import { openSignal, sealSignal } from './signal-crypto.js';
import type { PeerId } from './types.js';

/**
 * How long an initiator whose connection is forming waits, after the responder said it
 * has none, for the responder's first signal (its answer) before taking the offer for
 * lost: a relay round trip with a wide margin.
 */
const OFFER_LOST_AFTER_MS = 2000;

/** Base64url characters that encode a sealed signal's 12-byte IV. */
const IV_CHARS = 16;
/** IVs remembered per peer record to reject replays. */
const SEEN_IVS = 256;

/** Transport signals that may still reach an open connection: trickled ICE candidates (harmless to repeat). */
const isCandidates = (d: unknown) =>
  typeof d === 'object' && d !== null && ((d as { type?: unknown }).type === 'candidates' || 'candidate' in d);

/** What signal handling offers the rest of the mesh. */
export interface SignalHandling {
  /** Send an envelope to `r`, encrypted when the room has a password; order per peer is kept. */
  sendEnvelope(r: RemotePeer, env: SignalEnvelope): void;
  /** A signal from signaling. */
  onSignal(signal: { from: PeerId; data: unknown }): void;
  /** Signaling joined (or rejoined) the room. */
  onJoined(joined: { selfId: PeerId; peers: PeerId[]; fresh?: boolean }): void;
  /** Cancel pending timers (the room is closing). */
  stop(): void;
}

/**
 * Signal handling for `ctx` over `signaling`, with the room key (none: no password).
 *
 * @example
 * ```ts
 * const signals = createSignalHandling(ctx, signaling, key, lifecycle, (r, conn) => liveness.probeRestart(r, conn));
 * signaling.on('signal', signals.onSignal);
 * ```
 */
export function createSignalHandling(
  ctx: MeshContext,
  signaling: Signaling,
  key: Promise<CryptoKey> | undefined,
  lifecycle: PeerLifecycle,
  probeRestart: (r: RemotePeer, conn: Connection) => void,
): SignalHandling {
  const { clock, log, opts, remotes, conduct } = ctx;
  let joinedOnce = false;

  /** Send an envelope to `r`, encrypted when the room has a password; order per peer is kept. */
  const sendEnvelope = (r: RemotePeer, env: SignalEnvelope) => {
    if (!key) return signaling.sendSignal(r.id, env);
    const from = ctx.selfId;
    r.outbound = r.outbound
      .then(async () => {
        const text = await sealSignal(await key, from, r.id, env);
        // Sealed for the id we had when it was made (it is in the additional data): if the
        // relay has given us another meanwhile, the peer cannot open it and takes us for a
        // peer with another password, and the pair never connects while both stay.
        if (!ctx.closed && ctx.selfId === from) signaling.sendSignal(r.id, text);
      })
      .catch((err) => log.warn('could not encrypt a signal', { peer: r.id, error: String(err) }));
  };

  /**
   * Our password is known to be the room's: a signal from a peer that was in the room
   * before us decrypted (or a connection to one opened). From then on no mismatch with
   * anyone can make us leave.
   */
  let confirmed = false;
  /** Pending "no older peer has decrypted yet" deadline, started by a first mismatch with an older peer. */
  let graceTimer: TimerHandle | undefined;

  const onSignal = ({ from, data }: { from: PeerId; data: unknown }) => {
    if (ctx.closed || from === ctx.selfId) return;
    const r = remotePeer(ctx, from);
    // Already known to use another password: one notice was enough.
    if (r.mismatch) return;
    if (isUndecryptableNotice(data)) return passwordMismatch(r, false);
    if (!key) {
      if (typeof data === 'string') return passwordMismatch(r, true);
      return onEnvelope(r, data);
    }
    const to = ctx.selfId;
    const departures = r.departures;
    // Decryption is async; chaining per sender keeps the offer ahead of its candidates.
    r.inbound = r.inbound
      .then(async () => {
        let plain: unknown;
        try {
          if (typeof data !== 'string') throw new Error('plaintext signal in a password room');
          plain = await openSignal(await key, from, to, data);
        } catch {
          if (!r.mismatch && current(r, to, departures)) passwordMismatch(r, true);
          return;
        }
        // It is sealed with our key: true of the password even if the room moved on.
        if (ctx.olderPeers.has(r.id)) confirm();
        if (!current(r, to, departures)) return log.debug('dropped a signal from a room state that is gone', { peer: r.id });
        r.verified = true;
        conduct.matched(r.id);
        // Every seal has a fresh random IV: a repeat is the relay replaying a signal.
        const iv = data.slice(0, IV_CHARS);
        if (r.seenIvs.has(iv)) return log.warn('dropped a replayed signal', { peer: r.id });
        r.seenIvs.add(iv);
        if (r.seenIvs.size > SEEN_IVS) r.seenIvs.delete(r.seenIvs.values().next().value!);
        onEnvelope(r, plain);
      })
      .catch((err) => log.warn('could not handle a signal', { peer: from, error: String(err) }));
  };

  /**
   * The room is still as it was when a signal from `r` to `to` (our id then) came in,
   * `r` having left `departures` times: decryption is async, and meanwhile the relay may
   * have given us a new id (every record is dropped with its connections) or reported `r`
   * gone (its record forgotten, or kept while an open connection is probed). A signal
   * read after that belongs to connections that are gone. Acted on, it made a connection
   * on a record the room no longer had (never answered, not closed by leave(), until its
   * connect timeout), or announced a departed peer again, which we then offered to after
   * every connect timeout for as long as we stayed.
   */
  const current = (r: RemotePeer, to: PeerId, departures: number) =>
    !ctx.closed && ctx.selfId === to && remotes.get(r.id) === r && r.departures === departures;

  const confirm = () => {
    confirmed = true;
    if (graceTimer !== undefined) clock.clearTimeout(graceTimer);
    graceTimer = undefined;
  };

  /** True once an older peer has shown it shares our password. */
  const passwordConfirmed = () => {
    if (!confirmed) for (const id of ctx.olderPeers) if (remotes.get(id)?.verified) confirm();
    return confirmed;
  };

  const wrongPassword = (r: RemotePeer) =>
    ctx.fail(new MeshpartyError('wrong-password', `signals from peer ${r.id} cannot be decrypted: the room password differs`, { peer: r.id }));

  /**
   * Signals from `r` cannot be read with our key (or ours with theirs). A peer whose
   * signals already decrypted (or whose connection opened) cannot have another password:
   * the notice or garbage was forged or replayed by the relay, and is ignored. Otherwise
   * `r` is marked: we never connect to it (it learns through our notice). The peers that
   * were in the room before us define its password, so our own is wrong only if none of
   * them has decrypted: we fail with `wrong-password` once every older peer still in the
   * room has mismatched, or `connectTimeoutMs` after the first older mismatch if still
   * no older peer has decrypted by then.
   */
  const passwordMismatch = (r: RemotePeer, notify: boolean) => {
    if (ctx.closed) return;
    if (r.verified || r.conn?.isOpen) {
      return log.warn('ignored a password mismatch from a peer whose signals decrypted (forged or replayed by the relay)', { peer: r.id });
    }
    if (notify) signaling.sendSignal(r.id, { x: 1 });
    log.warn('peer uses a different room password: not connecting', { peer: r.id });
    r.mismatch = true;
    // Remembered past its departure: rejoining in a loop, it would make us build a
    // connection (and gather candidates) per rejoin before its answer fails again.
    conduct.mismatched(r.id);
    lifecycle.drop(r, 'wrong-password', false);
    if (!ctx.olderPeers.has(r.id) || passwordConfirmed()) return;
    let allOlderMismatched = true;
    for (const id of ctx.olderPeers) {
      const o = remotes.get(id);
      if (o && (o.inRoom || o === r) && !o.mismatch) allOlderMismatched = false;
    }
    if (allOlderMismatched) return wrongPassword(r);
    graceTimer ??= clock.setTimeout(() => {
      graceTimer = undefined;
      if (!ctx.closed && !passwordConfirmed()) wrongPassword(r);
    }, opts.connectTimeoutMs);
  };

  /** Cancel pending timers (the room is closing). */
  const stop = () => {
    if (graceTimer !== undefined) clock.clearTimeout(graceTimer);
    graceTimer = undefined;
    for (const t of offerChecks) clock.clearTimeout(t);
    offerChecks.clear();
  };

  /** Pending checks that a forming connection's offer reached the responder. */
  const offerChecks = new Set<TimerHandle>();
  /** Connections already being checked (one check each). */
  const checkedConns = new WeakSet<Connection>();
  /**
   * The responder says it has no connection while ours is forming. Usually our offer and
   * its request crossed (the offer is on its way, and its answer comes within a relay
   * round trip); but an offer sent while the responder was out of the relay is lost (a
   * relay that resumes its membership tells nobody it was gone), and ours would then wait
   * out connectTimeoutMs. So when no signal of the session has come from the responder
   * OFFER_LOST_AFTER_MS later, the connection starts over.
   */
  const checkOfferArrived = (r: RemotePeer, conn: Connection) => {
    if (checkedConns.has(conn)) return;
    checkedConns.add(conn);
    const t = clock.setTimeout(() => {
      offerChecks.delete(t);
      if (ctx.closed || r.conn !== conn || conn.isOpen || conn.heardSignal) return;
      log.warn('no answer to an offer the peer says it never got: starting over', { peer: r.id });
      lifecycle.drop(r, SIGNALS_LOST, true);
    }, Math.min(OFFER_LOST_AFTER_MS, opts.connectTimeoutMs));
    offerChecks.add(t);
  };

  /**
   * A signal from `r`, cut off for bad input, `bannedForMs` before its ban ends: dropped
   * unanswered, before any connection is made for it (an answer would only tell it to try
   * again sooner). The app hears of the first refused attempt of each ban.
   */
  const refuse = (r: RemotePeer, bannedForMs: number) => {
    if (!conduct.firstRefusal(r.id)) return log.debug('dropped a signal from a banned peer', { peer: r.id, retryInMs: bannedForMs });
    log.warn('refused a connection from a peer cut off for bad input', { peer: r.id, retryInMs: bannedForMs });
    ctx.events.emit(
      'peer-refused',
      new MeshpartyError('bad-peer', `refused a connection from peer ${r.id}, cut off for bad input, for another ${bannedForMs} ms`, {
        peer: r.id,
        retryInMs: bannedForMs,
        bans: conduct.bans(r.id),
      }),
    );
  };

  const onEnvelope = (r: RemotePeer, value: unknown) => {
    if (ctx.closed || r.mismatch) return;
    const env = parseEnvelope(value);
    if (!env) return log.warn('dropped malformed signal', { peer: r.id });
    const bannedForMs = conduct.bannedForMs(r.id);
    if (bannedForMs > 0) return refuse(r, bannedForMs);
    const initiator = shouldInitiate(ctx.selfId, r.id);
    if ('r' in env) {
      if (!initiator) return log.debug('restart request from the initiator side ignored', { peer: r.id });
      announced(r);
      const cur = r.conn;
      if (!cur) {
        if (r.retryTimer !== undefined) clock.clearTimeout(r.retryTimer);
        r.retryTimer = undefined;
        return lifecycle.consider(r);
      }
      // "I have none" while ours is forming usually crossed our offer on its way to the
      // peer (its answer follows): it restarts nothing unless no answer comes (a lost
      // offer; see checkOfferArrived). An open connection is only given up if the peer
      // stays silent on it: the request may be an old one the relay replays.
      if (env.r === null) {
        if (cur.isOpen) probeRestart(r, cur);
        else if (!cur.heardSignal) checkOfferArrived(r, cur);
      } else if (env.r === cur.session) lifecycle.drop(r, 'restart-requested', true);
      return;
    }
    if (r.conn?.session === env.s) {
      // meshparty never renegotiates: a description for an open session is a replay.
      if (r.conn.isOpen && !isCandidates(env.d)) return log.warn('dropped a description for an open connection', { peer: r.id });
      r.conn.heardSignal = true;
      return r.conn.transport.signal(env.d);
    }
    if (initiator || r.dead.includes(env.s)) return log.debug('signal for a closed or unknown session dropped', { peer: r.id });
    // A new session from the initiator: it started over, so our connection (if any) is stale.
    announced(r);
    if (!lifecycle.hasRoomFor(r)) return log.warn('room at maxPeers: refusing a connection', { peer: r.id, maxPeers: opts.maxPeers });
    lifecycle.drop(r, 'replaced', false);
    lifecycle.startConnection(r, false, env.s)?.transport.signal(env.d);
  };

  const onJoined = ({ selfId: id, peers, fresh }: { selfId: PeerId; peers: PeerId[]; fresh?: boolean }) => {
    if (ctx.closed) return;
    ctx.freshIdentity = fresh === true;
    if (ctx.selfId && id !== ctx.selfId) {
      // The relay gave us a new identity: every connection was made under the old one.
      log.warn('peer id changed on rejoin; reconnecting everyone', { from: ctx.selfId, to: id });
      for (const r of remotes.values()) {
        lifecycle.drop(r, 'self-id-changed', false);
        // A record with no connection still has its retry timer, which would connect
        // from a record no longer in `remotes` (an orphan that outlives leave()).
        lifecycle.clearTimers(r);
      }
      remotes.clear();
    }
    const rejoined = joinedOnce && ctx.selfId === id;
    ctx.selfId = id;
    const others = peers.filter((p) => p !== id);
    if (!joinedOnce) {
      joinedOnce = true;
      ctx.olderPeers = new Set(others);
      if (others.length + 1 > opts.maxPeers) {
        return ctx.fail(new MeshpartyError('room-full', `room "${opts.room}" already has ${others.length} peers (maxPeers ${opts.maxPeers})`, { peers: others.length, maxPeers: opts.maxPeers }));
      }
    }
    const listed = new Set(others);
    for (const r of [...remotes.values()]) {
      r.inRoom = listed.has(r.id);
      if (!r.inRoom && !r.conn) lifecycle.forget(r);
    }
    if (rejoined) {
      // Signals sent while we were out of the relay were dropped: a connection still
      // forming may wait for an offer or answer that never left. Start each over now
      // (not after connectTimeoutMs); one to a peer not back yet is made when it is.
      for (const r of [...remotes.values()]) if (r.conn && !r.conn.isOpen) lifecycle.drop(r, SIGNALS_LOST, true);
    }
    for (const p of others) {
      const r = remotePeer(ctx, p);
      r.inRoom = true;
      lifecycle.consider(r);
    }
  };

  return { sendEnvelope, onSignal, onJoined, stop };
}
