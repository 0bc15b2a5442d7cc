/**
 * `joinRoom`: the one call an app makes to join a room over real WebRTC. It wires the
 * relay client (`signaling-client/websocket-signaling.ts`) and the WebRTC transport
 * (`transport/simple-peer.ts`) into {@link createMesh}, and resolves once the relay has
 * let us in, so "relay unreachable", "room full" and "token refused" are rejections the
 * app can show, not events it might miss.
 */
import { MeshpartyError } from '../util/errors.js';
import type { BackoffOptions } from '../signaling-client/backoff.js';
import { type WebSocketConstructor, createWebSocketSignaling } from '../signaling-client/websocket-signaling.js';
import { type SimplePeerTransportOptions, type WebRtcImplementation, createSimplePeerTransports } from '../transport/simple-peer.js';
import { type MeshOptions, createMesh } from './create-mesh.js';
import { checkMeshNumbers } from './mesh-options.js';
import type { PeerId, Room } from './types.js';

/**
 * Options of {@link joinRoom}: where the relay is, which room, and (in Node) which
 * WebRTC and WebSocket to use; the rest tunes the mesh.
 *
 * @example
 * ```ts
 * const options: JoinRoomOptions = {
 *   relay: 'wss://relay.example',
 *   room: 'friday-game',
 *   password: 'from the invite link', // signals encrypted end to end
 *   iceServers: [{ urls: 'stun:stun.example.org:3478' }],
 *   connectAttempts: 10,
 * };
 * const room = await joinRoom(options);
 * ```
 */
export interface JoinRoomOptions extends Omit<MeshOptions, 'room' | 'signaling' | 'transports'> {
  /** The relay's WebSocket URL, e.g. `wss://relay.example.org` or `ws://127.0.0.1:4444`. */
  relay: string;
  /** Room name. Everyone with the same relay, room (and password) meets. */
  room: string;
  /** Room token, when the relay has a secret (see the relay's `createRoomToken`). */
  token?: string;
  /** STUN/TURN servers (default none: same host or LAN only). */
  iceServers?: RTCIceServer[];
  /**
   * WebRTC implementation; default the browser's. In Node pass one: node-datachannel
   * through `adaptNodeDatachannel(await import('node-datachannel/polyfill'))`, or
   * `@roamhq/wrtc` as it is.
   */
  wrtc?: WebRtcImplementation;
  /** WebSocket implementation; default the global one. In Node 20 pass `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Ask the relay for this peer id instead of a generated one. */
  peerId?: PeerId;
  /**
   * The secret that ties this peer's id to it at the relay (see
   * `WebSocketSignalingOptions.resumeKey`; default a random one per `joinRoom` call).
   * Pass the same one with the same `peerId` to take the id back after a crash, before
   * the relay's grace period for the lost connection is over.
   */
  resumeKey?: string;
  /**
   * Relay reconnect delays (default 250 ms doubling to 10 s, 50 % jitter); they start over
   * only after a connection that stayed joined for `maxMs`.
   */
  backoff?: BackoffOptions;
  /**
   * Failed attempts to reach the relay before rejecting with `relay-unreachable` (default
   * 5). An attempt the relay refuses outright (`server-full`,
   * `too-many-connections-from-ip`) counts as failed, since capacity may free up by the
   * next; the rejection's `detail.lastRefusal` then names the latest such refusal. One
   * refused for the address's join rate (`rate-limited`) does not count: the relay lets
   * the address in as its rate allows.
   */
  connectAttempts?: number;
  /** Transport tuning (frame size, drain threshold); rarely needed. */
  transport?: Omit<SimplePeerTransportOptions, 'wrtc' | 'iceServers' | 'clock' | 'logger'>;
  /**
   * Give up joining when this aborts: the relay client stops retrying, and the join
   * rejects with code `aborted` (`detail.reason`: the signal's reason). Against a relay
   * that never answers, a join otherwise takes `connectAttempts` tries with backoff
   * (~50 s by default). It only covers the join: once joined, call `room.leave()`.
   */
  signal?: AbortSignal;
  /**
   * Called for each attempt the relay refuses as a whole (`server-full`,
   * `too-many-connections-from-ip`, `rate-limited`) while joining, before the room exists
   * to subscribe to, so an app can say "relay full, retrying…" instead of a bare "connecting". Same error as
   * the room's later `relay-refused` events (`detail.retryInMs`, `detail.url`); once
   * joined, subscribe to those instead (this callback is not called after the join settles).
   */
  onRelayRefused?: (err: MeshpartyError) => void;
}

/**
 * Join a room: connect to the relay, then to every peer in the room over WebRTC data
 * channels. Resolves once the relay has accepted us (peers then appear through
 * `peer-joined`). Rejects with a {@link MeshpartyError} whose `code` is
 * `relay-unreachable`, `room-full`, `token-required`/`token-invalid`/`token-expired`/
 * `token-wrong-room`, `webrtc-unsupported`, `websocket-unavailable`, `aborted` (the
 * `signal` option), `bad-argument` (a `relay` that is not a ws:// or wss:// URL, an empty
 * `room`, a mesh option out of range), `bad-relay-url` (a URL the WebSocket refuses),
 * `peer-id-taken` (a proposed `peerId` that another client holds), or another refusal of
 * the relay that trying again cannot mend (`room-name-invalid`: a name longer than the
 * relay's `maxRoomNameLength`; `peer-id-invalid`, `resume-key-invalid`, `too-many-rooms`,
 * `version-mismatch`, `origin-not-allowed`, `abuse`; PROTOCOL.md, "Error codes").
 * `relay-unreachable` (`detail.url`, `detail.attempts`) means no attempt
 * got in, and trying again later may work; when the relay itself refused the connection,
 * `detail.lastRefusal` says why: `server-full`, `too-many-connections-from-ip` or
 * `rate-limited` (the address's join rate). Once
 * joined, such refusals while the room rejoins arrive as `relay-refused` events; while joining,
 * the `onRelayRefused` option hears each one as it comes. A wrong password
 * cannot be known before peers answer: it arrives as an `error` event with code
 * `wrong-password` (within seconds once every peer older than us has answered; at most
 * `connectTimeoutMs` if one stays silent), and the room closes. A password that cannot
 * be used at all (no WebCrypto `crypto.subtle`, e.g. a page that is not a secure
 * context) arrives the same way with code `crypto-unavailable`. An `error` the room lives
 * on with never rejects the join: `transport-failed` (this WebRTC would not create a peer
 * connection, e.g. turned off by a browser setting) towards a peer already in the room
 * arrives as an event once joined, and again with each retry until it connects.
 *
 * @example
 * ```ts
 * // Node: node-datachannel through its adapter (or `import wrtc from '@roamhq/wrtc'`)
 * import { adaptNodeDatachannel } from 'meshparty';
 * import WebSocket from 'ws';
 * const wrtc = adaptNodeDatachannel(await import('node-datachannel/polyfill'));
 * const room = await joinRoom({ relay: 'ws://127.0.0.1:4444', room: 'demo', wrtc, WebSocket });
 *
 * // Browser
 * const room = await joinRoom({ relay: 'wss://relay.example.org', room: 'demo', password: 'pw',
 *   iceServers: [{ urls: 'stun:stun.example.org:3478' }] });
 * room.on('peer-joined', ({ id }) => room.send(id, new TextEncoder().encode('hello')));
 * room.on('error', (err) => console.error(err.code, err.message));
 *
 * // Tell a full relay from an unreachable one (both worth trying again later)
 * try {
 *   await joinRoom({ relay, room: 'demo' });
 * } catch (err) {
 *   const full = err instanceof MeshpartyError && err.code === 'relay-unreachable' && err.detail?.lastRefusal === 'server-full';
 *   show(full ? 'relay full, try again later' : String(err));
 * }
 *
 * // Say why the join takes long while the relay turns us away (it keeps retrying)
 * const patient = await joinRoom({ relay, room: 'demo', connectAttempts: 20,
 *   onRelayRefused: (err) => show(err.code === 'server-full' ? 'relay full, retrying…' : 'too many connections from here, retrying…') });
 *
 * // Give up after 10 s (rejects with code `aborted`)
 * const quick = await joinRoom({ relay, room: 'demo', wrtc, WebSocket, signal: AbortSignal.timeout(10_000) });
 * ```
 */
export async function joinRoom(options: JoinRoomOptions): Promise<Room> {
  const { relay, token, iceServers, wrtc, WebSocket, peerId, resumeKey, backoff, connectAttempts, transport, signal, onRelayRefused, ...meshOptions } = options;
  if (typeof relay !== 'string' || !/^wss?:\/\//.test(relay)) {
    throw new MeshpartyError('bad-argument', `relay must be a ws:// or wss:// URL, got ${JSON.stringify(relay)}`);
  }
  if (typeof options.room !== 'string' || options.room.length === 0) throw new MeshpartyError('bad-argument', 'room must be a non-empty string');
  // Out-of-range mesh options are the caller's mistake: say so before anything else fails.
  checkMeshNumbers(meshOptions);
  if (!wrtc && typeof (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection !== 'function') {
    throw new MeshpartyError('webrtc-unsupported', 'no WebRTC here: pass `wrtc` (in Node: adaptNodeDatachannel(node-datachannel/polyfill), or @roamhq/wrtc)');
  }
  if (signal?.aborted) throw aborted(options.room, signal);
  const signaling = createWebSocketSignaling({
    url: relay,
    room: options.room,
    token,
    WebSocket,
    peerId,
    resumeKey,
    backoff,
    maxInitialAttempts: connectAttempts ?? 5,
    clock: options.clock,
    logger: options.logger,
  });
  const transports = createSimplePeerTransports({ ...transport, wrtc, iceServers, clock: options.clock, logger: options.logger });
  const room = createMesh({ ...meshOptions, signaling, transports });

  return new Promise<Room>((resolve, reject) => {
    const offs: Array<() => void> = [];
    const settle = (err?: MeshpartyError) => {
      for (const off of offs) off();
      if (!err) return resolve(room);
      void room.leave();
      reject(err);
    };
    // Only an error that ends the room rejects the join: such an error is emitted just
    // before the room closes. One the room lives on with (`transport-failed` towards a
    // peer already there, when this browser will not create a peer connection) used to
    // reject it and leave a room the relay had let us into.
    let fatal: MeshpartyError | undefined;
    offs.push(
      room.on('status', (s) => {
        if (s === 'connected') settle();
        else if (s === 'closed') settle(fatal ?? new MeshpartyError('closed', `room "${options.room}" closed while joining`));
      }),
      room.on('error', (err) => {
        fatal = err;
        queueMicrotask(() => {
          if (room.status !== 'closed' && fatal === err) fatal = undefined;
        });
      }),
    );
    // A throw from the app's callback is caught and logged by the room's emitter, like any listener's.
    if (onRelayRefused) offs.push(room.on('relay-refused', onRelayRefused));
    if (signal) {
      const onAbort = () => settle(aborted(options.room, signal));
      signal.addEventListener('abort', onAbort, { once: true });
      offs.push(() => signal.removeEventListener('abort', onAbort));
    }
  });
}

function aborted(room: string, signal: AbortSignal): MeshpartyError {
  return new MeshpartyError('aborted', `joining room "${room}" was aborted`, { reason: signal.reason });
}
