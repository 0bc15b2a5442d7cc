/**
 * The one interface between the mesh and a peer-to-peer connection. Implementations:
 * `simple-peer.ts` (WebRTC in browsers, and in Node with an injected WebRTC:
 * node-datachannel through `node-datachannel.ts`, or `@roamhq/wrtc`) and `memory.ts` (deterministic, for unit tests). Both must pass the
 * shared acceptance suite in `test/transport/acceptance.ts`.
 */
import type { MeshpartyError } from '../util/errors.js';
import type { PeerId } from '../signaling-client/protocol.js';

/**
 * Delivery guarantees of a channel.
 *
 * @example
 * ```ts
 * const inputs = room.channel('inputs', { reliability: 'unreliable' }); // late is useless: never resent
 * const doc = room.channel('doc'); // 'reliable' by default
 * ```
 */
export type Reliability =
  /** Reliable and ordered per peer: control messages, documents, snapshots. */
  | 'reliable'
  /** Unordered, no retransmission: game inputs (senders add their own redundancy). */
  | 'unreliable';

/** Events of a {@link PeerTransport}. */
export interface PeerTransportEvents {
  /** A signaling payload to deliver to the remote peer's `signal()` (via the relay). */
  signal: unknown;
  /** Both channels (reliable and unreliable) are open; `maxMessageSize` is known. */
  open: void;
  /** One frame arrived, exactly as the remote passed it to `send()`. */
  frame: { reliability: Reliability; data: Uint8Array };
  /** `bufferedAmount(reliability)` fell to or below `lowWaterMark` after being above it. */
  drain: { reliability: Reliability };
  /** The connection failed. Always followed by `close`. */
  error: MeshpartyError;
  /**
   * The connection is gone (emitted exactly once, after `destroy()` or a failure):
   * `reason` is `closed`, or the failure's error code.
   */
  close: { reason: string };
}

/**
 * One connection to one remote peer, carrying two data channels: reliable ordered and
 * unordered unreliable. Frames are opaque bytes no larger than `maxMessageSize`;
 * chunking, tagging and backpressure policy belong to the mesh above.
 */
export interface PeerTransport {
  readonly remoteId: PeerId;
  /** True for the side that creates the offer (decided by the mesh's glare rule). */
  readonly initiator: boolean;
  /** Largest frame `send()` accepts, in bytes; meaningful once `open` has fired. */
  readonly maxMessageSize: number;
  /** Backpressure threshold for `drain`, in bytes. */
  readonly lowWaterMark: number;
  /** Feed a signaling payload received from the remote peer. */
  signal(data: unknown): void;
  /** Send one frame; throws a MeshpartyError (`not-open`, `frame-too-large`) when it cannot. */
  send(reliability: Reliability, data: Uint8Array): void;
  /** Bytes handed to the channel and not yet sent on the wire. */
  bufferedAmount(reliability: Reliability): number;
  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof PeerTransportEvents>(event: K, listener: (value: PeerTransportEvents[K]) => void): () => void;
  /** Close the connection; idempotent. Emits `error` first when `err` is given, then `close`. */
  destroy(err?: MeshpartyError): void;
}

/** Creates one transport per remote peer. Platform objects (WebRTC) are injected here. */
export interface PeerTransportFactory {
  create(options: { localId: PeerId; remoteId: PeerId; initiator: boolean }): PeerTransport;
}
