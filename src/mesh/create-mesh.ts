/**
 * The mesh: a room of peers, one transport per pair, named channels over them.
 *
 * Membership comes from a {@link Signaling} (the relay client, or the in-memory one);
 * connections come from a {@link PeerTransportFactory}. This file wires the parts of
 * one room together and gives the app its {@link Room}:
 *  - `peer-lifecycle.ts`: who connects (the glare rule in `glare.ts`), retries, drops;
 *  - `signal-handling.ts`: envelopes through signaling, passwords, the relay's `joined`;
 *  - `liveness.ts`: heartbeats, timeouts, probing peers the relay lost;
 *  - `channel-host.ts`: named channels and sending on them.
 * The frame protocol of one connection lives in `connection.ts`.
 */
import { realClock } from '../util/clock.js';
import { Emitter } from '../util/emitter.js';
import { MeshpartyError } from '../util/errors.js';
import type { SignalingStatus } from '../signaling-client/types.js';
import type { MeshChannel } from './channel.js';
import { createChannels } from './channel-host.js';
import { shouldInitiate } from './glare.js';
import { type Liveness, startLiveness } from './liveness.js';
import { consoleLogger } from './logger.js';
import { type MeshContext, announced, remotePeer } from './mesh-context.js';
import { type MeshOptions, resolveMeshOptions } from './mesh-options.js';
import { PeerConduct } from './peer-conduct.js';
import { createPeerLifecycle } from './peer-lifecycle.js';
import { deriveSignalKey } from './signal-crypto.js';
import { createSignalHandling } from './signal-handling.js';
import type { PeerId, PeerInfo, Room, RoomEvents, RoomStatus } from './types.js';

export type { MeshOptions } from './mesh-options.js';

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
  const opts = resolveMeshOptions(options);
  const clock = options.clock ?? realClock();
  const log = options.logger ?? consoleLogger();
  const { signaling, transports } = options;
  let status: RoomStatus = 'connecting';
  const ctx: MeshContext = {
    opts,
    clock,
    log,
    events: new Emitter<RoomEvents>((err) => log.warn('a room listener threw', { error: String(err) })),
    remotes: new Map(),
    open: new Map<PeerId, PeerInfo>(),
    channelsById: new Map<number, MeshChannel>(),
    conduct: new PeerConduct(opts, clock),
    selfId: '',
    closed: false,
    freshIdentity: false,
    olderPeers: new Set(),
    fail: (err) => {
      if (ctx.closed) return;
      ctx.events.emit('error', err);
      void leave();
    },
  };
  const { events, remotes } = ctx;
  const key = options.password === undefined ? undefined : deriveSignalKey(options.password, options.room);
  key?.catch((err) => ctx.fail(new MeshpartyError('crypto-unavailable', `cannot derive the room key: ${String(err)}`)));

  // The lifecycle sends through signal handling and signal handling drives the
  // lifecycle; `signals` is only used once signaling delivers something.
  const lifecycle = createPeerLifecycle(ctx, transports, (r, env) => signals.sendEnvelope(r, env));
  const signals = createSignalHandling(ctx, signaling, key, lifecycle, (r, conn) => liveness?.probeRestart(r, conn));
  const channel = createChannels(ctx);
  // Started once signaling is subscribed (below); `leave` may come first (a failed key).
  let liveness: Liveness | undefined;

  const setStatus = (next: RoomStatus) => {
    if (status === next || status === 'closed') return;
    status = next;
    events.emit('status', next);
  };

  const mapStatus = (s: SignalingStatus) => {
    if (s === 'closed') {
      // The signaling gave up for good (fatal relay error): nothing more can join us.
      if (!ctx.closed) void leave();
      return;
    }
    setStatus(s);
  };

  /**
   * The first leave()'s promise, set before any listener runs: a call from a `leaving`,
   * `peer-left` or `status` listener of that leave() (an app that leaves when its last
   * peer goes, then exits) gets it, pending until the queues have drained and every
   * connection is closed, and does not cut the leave short.
   */
  let left: Promise<void> | undefined;
  const leave = (): Promise<void> => {
    if (left) return left;
    let farewellsDone!: () => void;
    left = new Promise<void>((resolve) => (farewellsDone = resolve));
    // Upper layers first, while the connections are open: what they send now (a
    // provider's merged edits) is written ahead of the goodbye, by every listener, even
    // after one of them called leave() itself.
    events.emit('leaving', {});
    ctx.closed = true;
    liveness?.stop();
    signals.stop();
    const farewells: Array<Promise<void>> = [];
    for (const r of [...remotes.values()]) {
      // What is queued to each peer goes out before its goodbye (within farewellDrainMs);
      // when both leave together, the end that initiated the connection closes it first.
      const id = r.id;
      if (r.conn) {
        const farewell = r.conn.farewell(opts.farewellTimeoutMs, shouldInitiate(ctx.selfId, id), opts.farewellDrainMs);
        farewells.push(
          farewell.then(({ droppedMessages, droppedBytes }) => {
            if (droppedMessages > 0) {
              log.warn('left with messages still queued: dropped', { peer: id, messages: droppedMessages, bytes: droppedBytes, farewellDrainMs: opts.farewellDrainMs });
            }
          }),
        );
      }
      lifecycle.drop(r, 'closed', false);
      lifecycle.clearTimers(r);
    }
    remotes.clear();
    for (const off of offs) off();
    signaling.close();
    status = 'closed';
    events.emit('status', 'closed');
    void Promise.all(farewells).then(farewellsDone);
    return left;
  };

  const offs = [
    signaling.on('status', mapStatus),
    signaling.on('error', (err) => {
      if (ctx.closed) return;
      // A signal to a peer that has just left is refused by the relay: routine, not the app's concern.
      if (ROUTINE_RELAY_REFUSALS.has(err.code)) return log.debug('relay refused a signal', { code: err.code });
      events.emit('error', err);
    }),
    // Not fatal: the signaling retries with backoff; the app learns why it is not in yet.
    signaling.on('refused', (err) => {
      if (!ctx.closed) events.emit('relay-refused', err);
    }),
    signaling.on('joined', signals.onJoined),
    signaling.on('peer-joined', (id) => {
      if (ctx.closed || id === ctx.selfId) return;
      const r = remotePeer(ctx, id);
      announced(r);
      lifecycle.consider(r);
    }),
    signaling.on('peer-left', (id) => {
      const r = remotes.get(id);
      if (!r) return;
      // An open connection is kept unless the peer itself stays silent: the relay may be
      // the one in trouble.
      r.inRoom = false;
      r.departures++;
      r.mismatch = false;
      if (r.conn?.isOpen) liveness?.probeLeaver(r, r.conn);
      else if (r.conn) lifecycle.drop(r, 'left-room', false);
      if (!r.conn) lifecycle.forget(r);
    }),
    signaling.on('signal', signals.onSignal),
  ];

  liveness = startLiveness(ctx, lifecycle);
  signaling.join();

  const defaultChannel = channel(DEFAULT_CHANNEL);
  return {
    name: options.room,
    get selfId() {
      return ctx.selfId;
    },
    peers: ctx.open,
    get status() {
      return status;
    },
    on: (event, listener) => events.on(event, listener),
    channel,
    send: (to, data) => defaultChannel.send(to, data),
    broadcast: (data) => defaultChannel.broadcast(data),
    leave,
    disconnect(peer, reason, options) {
      lifecycle.cutOff(peer, `disconnected: ${reason}`, new MeshpartyError('bad-peer', `peer ${peer} cut off: ${reason}`, { peer }), options?.banMs);
    },
    strike: (peer, reason) => lifecycle.strike(peer, reason),
  };
}
