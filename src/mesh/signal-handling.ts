/**
 * Signal handling of one mesh: envelopes to and from peers through signaling (sealed
 * when the room has a password), what a signal does to a connection (glare rule, new
 * sessions, restart requests), password mismatches, and the relay's `joined` (own id,
 * who is there, room capacity).
 */
import { MeshpartyError } from '../util/errors.js';
import type { Signaling } from '../signaling-client/types.js';
import { type SignalEnvelope, isUndecryptableNotice, parseEnvelope, shouldInitiate } from './glare.js';
import { type MeshContext, type RemotePeer, remotePeer } from './mesh-context.js';
import type { PeerLifecycle } from './peer-lifecycle.js';
import { openSignal, sealSignal } from './signal-crypto.js';
import type { PeerId } from './types.js';

/** What signal handling offers the rest of the mesh. */
export interface SignalHandling {
  /** Send an envelope to `r`, encrypted when the room has a password; order per peer is kept. */
  sendEnvelope(r: RemotePeer, env: SignalEnvelope): void;
  /** A signal from signaling. */
  onSignal(signal: { from: PeerId; data: unknown }): void;
  /** Signaling joined (or rejoined) the room. */
  onJoined(joined: { selfId: PeerId; peers: PeerId[]; fresh?: boolean }): void;
}

/**
 * Signal handling for `ctx` over `signaling`, with the room key (none: no password).
 *
 * @example
 * ```ts
 * const signals = createSignalHandling(ctx, signaling, key, lifecycle);
 * signaling.on('signal', signals.onSignal);
 * ```
 */
export function createSignalHandling(
  ctx: MeshContext,
  signaling: Signaling,
  key: Promise<CryptoKey> | undefined,
  lifecycle: PeerLifecycle,
): SignalHandling {
  const { clock, log, opts, remotes } = ctx;
  let joinedOnce = false;

  /** Send an envelope to `r`, encrypted when the room has a password; order per peer is kept. */
  const sendEnvelope = (r: RemotePeer, env: SignalEnvelope) => {
    if (!key) return signaling.sendSignal(r.id, env);
    const from = ctx.selfId;
    r.outbound = r.outbound
      .then(async () => {
        const text = await sealSignal(await key, from, r.id, env);
        if (!ctx.closed) signaling.sendSignal(r.id, text);
      })
      .catch((err) => log.warn('could not encrypt a signal', { peer: r.id, error: String(err) }));
  };

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
      if (!ctx.closed) onEnvelope(r, plain);
    });
  };

  /**
   * Signals from `r` cannot be read with our key (or ours with theirs). The peers that
   * were in the room before us define its password, so if `r` is one of them the fault
   * is ours: report `wrong-password` and leave. Otherwise `r` is the newcomer at fault:
   * never connect to it (it learns through our notice and leaves).
   */
  const passwordMismatch = (r: RemotePeer, notify: boolean) => {
    if (ctx.closed) return;
    if (notify) signaling.sendSignal(r.id, { x: 1 });
    if (ctx.olderPeers.has(r.id)) {
      return ctx.fail(new MeshpartyError('wrong-password', `signals from peer ${r.id} cannot be decrypted: the room password differs`, { peer: r.id }));
    }
    if (!r.mismatch) log.warn('peer uses a different room password: not connecting', { peer: r.id });
    r.mismatch = true;
    lifecycle.drop(r, 'wrong-password', false);
  };

  const onEnvelope = (r: RemotePeer, value: unknown) => {
    if (ctx.closed || r.banned || r.mismatch) return;
    const env = parseEnvelope(value);
    if (!env) return log.warn('dropped malformed signal', { peer: r.id });
    const initiator = shouldInitiate(ctx.selfId, r.id);
    if ('r' in env) {
      if (!initiator) return log.debug('restart request from the initiator side ignored', { peer: r.id });
      r.inRoom = true;
      r.left = false;
      const cur = r.conn;
      if (!cur) {
        if (r.retryTimer !== undefined) clock.clearTimeout(r.retryTimer);
        r.retryTimer = undefined;
        return lifecycle.consider(r);
      }
      // "I have none" only means something once ours is open: while ours is forming, the
      // offer is already on its way to the peer (signals of one pair arrive in order).
      if (env.r === null ? cur.isOpen : env.r === cur.session) lifecycle.drop(r, 'restart-requested', true);
      return;
    }
    if (r.conn?.session === env.s) return r.conn.transport.signal(env.d);
    if (initiator || r.dead.includes(env.s)) return log.debug('signal for a closed or unknown session dropped', { peer: r.id });
    // A new session from the initiator: it started over, so our connection (if any) is stale.
    r.inRoom = true;
    r.left = false;
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
    for (const p of others) {
      const r = remotePeer(ctx, p);
      r.inRoom = true;
      lifecycle.consider(r);
    }
  };

  return { sendEnvelope, onSignal, onJoined };
}
