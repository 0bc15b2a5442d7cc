/**
 * The options of a mesh ({@link MeshOptions}) and their defaults; `resolveMeshOptions`
 * fills in what the caller left out.
 */
import type { Clock } from '../util/clock.js';
import { MeshpartyError } from '../util/errors.js';
import type { Signaling } from '../signaling-client/types.js';
import type { PeerTransportFactory } from '../transport/types.js';
import type { Logger } from './logger.js';

/**
 * Options of `createMesh`. `joinRoom()` fills in `signaling` and `transports` for
 * WebRTC through a relay; pass these yourself to run the mesh on other parts. A number
 * out of its range (a heartbeat under 10 ms, a fractional `maxPeers`, a negative
 * timeout) is refused at once with `bad-argument` naming the option.
 *
 * @example
 * ```ts
 * const room = createMesh({
 *   room: 'notes',
 *   signaling: createWebSocketSignaling({ url: 'wss://relay.example', room: 'notes' }),
 *   transports: createSimplePeerTransports(),
 *   password: 'correct horse',
 *   maxPeers: 8,
 * });
 * ```
 */
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
  /**
   * How long `leave()` waits, after sending each peer a goodbye, for that peer to close
   * the connection before closing it itself (default 1000 ms; 0 closes at once). The
   * side that closes first makes the other side's WebRTC stack end the channel on its own
   * thread while the other side may still be sending on it, a race that crashes
   * @roamhq/wrtc; a peer closes on a goodbye from its own code, where no send races it.
   * When both ends leave together, the end that initiated the connection closes it and
   * the other waits at most 200 ms of this for that close (PROTOCOL.md, "Frames"). While
   * the transport still buffers frames at the goodbye (what `leave()` drained, or sent
   * just before), the wait lasts at least until `farewellDrainMs` after `leave()`, so a
   * slow link's last bytes are not cut off. `leave()` resolves once every connection is closed. The wait runs on `clock`
   * (with a ManualClock, advance it, or pass 0; messages still queued behind backpressure
   * over a link with latency drain on `clock` too, unless `farewellDrainMs` is 0). The
   * in-memory network, which has no such race, defaults to 0.
   */
  farewellTimeoutMs?: number;
  /**
   * How long `leave()` lets messages still queued to a peer (sent before it, waiting
   * behind backpressure: a pasted block's Yjs update, a file) go out before the goodbye
   * (default 5000 ms; 0 drops them at once). The goodbye follows the last of them, so the
   * peer has them all before it reports `peer-left`; a peer leaving itself meanwhile takes
   * no more. What is still queued then is dropped: each such send's promise rejects with
   * `drain-timeout` (a broadcast's with `detail.failed` naming the peers) and one warning
   * per peer gives the messages and bytes. `leave()` resolves within about
   * `farewellDrainMs` + `farewellTimeoutMs`. Runs on `clock`, like `farewellTimeoutMs`.
   */
  farewellDrainMs?: number;
  /**
   * Strikes (a malformed frame, or bad input an upper layer reports through
   * `room.strike()`) that cut a peer off when counted within `strikeExpiryMs` (default
   * 10). Counted per peer id for the life of the room, across reconnects.
   */
  maxStrikes?: number;
  /** A strike is forgotten this long after it was counted (default 10 minutes). */
  strikeExpiryMs?: number;
  /**
   * A peer cut off for bad input (or by `room.disconnect()`) is refused for this long
   * (default 60 s, at least 1 s), doubled for each earlier cut-off of that id (at most 64
   * times this): no connection is made to it and its offers are dropped unanswered.
   */
  banMs?: number;
  /** Bytes one peer's reliable queue may hold before `send` rejects with `queue-full` (default 256 MiB). */
  maxQueuedBytes?: number;
  /**
   * Bytes a data channel may buffer before the queue waits for `drain` (default: the largest of
   * 1 MiB, 4 x the transport's maxMessageSize and 2 x its lowWaterMark). Higher can add
   * throughput on long fat links at the cost of latency for later messages. A value below
   * the transport's lowWaterMark is raised to it (the queue resumes on `drain`, which the
   * transport fires only after its buffer has been above that mark).
   */
  highWaterMarkBytes?: number;
  /** Time source for heartbeats, timeouts and retries (default: the real clock). */
  clock?: Clock;
  /** Where dropped input and recoveries are reported (default: warnings to the console). */
  logger?: Logger;
}

/** What an option left out means. */
export const MESH_DEFAULTS = {
  maxPeers: 16,
  maxMessageBytes: 64 * 1024 * 1024,
  heartbeatIntervalMs: 500,
  peerTimeoutMs: 2250,
  leftProbeMs: 1000,
  connectTimeoutMs: 15_000,
  farewellTimeoutMs: 1000,
  farewellDrainMs: 5000,
  maxStrikes: 10,
  strikeExpiryMs: 10 * 60_000,
  banMs: 60_000,
  maxQueuedBytes: 256 * 1024 * 1024,
};

/** Options with every default filled in. */
export type ResolvedMeshOptions = MeshOptions & typeof MESH_DEFAULTS;

/**
 * What each numeric option may be: its least value, whether it must be a whole number,
 * and whether Infinity means "never" (timeouts, limits). A heartbeat of 0 ms would spin
 * (a real clock) or never let simulated time move (a ManualClock), so it has a floor.
 */
const NUMERIC_OPTIONS: Record<string, { min: number; integer?: boolean; infinite?: boolean }> = {
  maxPeers: { min: 1, integer: true, infinite: true },
  maxMessageBytes: { min: 1, integer: true },
  heartbeatIntervalMs: { min: 10 },
  peerTimeoutMs: { min: 1, infinite: true },
  leftProbeMs: { min: 1, infinite: true },
  connectTimeoutMs: { min: 1, infinite: true },
  farewellTimeoutMs: { min: 0 },
  farewellDrainMs: { min: 0 },
  maxStrikes: { min: 1, integer: true, infinite: true },
  strikeExpiryMs: { min: 1, infinite: true },
  // A floor: at 0 a peer an upper layer keeps cutting off as it comes back (a provider's
  // block outlives the mesh's ban) would be reconnected and cut off again without pause.
  banMs: { min: 1000 },
  maxQueuedBytes: { min: 1, infinite: true },
  highWaterMarkBytes: { min: 1 },
};

/** Throws `bad-argument` naming the first numeric option out of its range (`undefined`: the default). */
export function checkMeshNumbers(options: Partial<MeshOptions>): void {
  for (const [name, rule] of Object.entries(NUMERIC_OPTIONS)) {
    const value = (options as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const ok =
      typeof value === 'number' &&
      value >= rule.min &&
      (Number.isFinite(value) ? !rule.integer || Number.isInteger(value) : value === Infinity && rule.infinite === true);
    if (!ok) {
      const what = `${rule.integer ? 'a whole number' : 'a number'} of at least ${rule.min}${rule.infinite ? ' (or Infinity)' : ''}`;
      throw new MeshpartyError('bad-argument', `${name} must be ${what}, got ${String(value)}`);
    }
  }
}

/**
 * The caller's options over the defaults (an option passed as `undefined` keeps its
 * default). Throws `bad-argument` naming the option for a number out of its range.
 */
export function resolveMeshOptions(options: MeshOptions): ResolvedMeshOptions {
  checkMeshNumbers(options);
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<MeshOptions>;
  return { ...MESH_DEFAULTS, ...given } as ResolvedMeshOptions;
}
