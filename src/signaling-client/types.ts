/**
 * The mesh's view of "whoever introduces peers": the WebSocket relay client
 * (`websocket-signaling.ts`) or an in-memory one for unit tests. The mesh encrypts
 * signal payloads itself before `sendSignal` when the room has a password, so a
 * signaling implementation only ever carries opaque data.
 */
import type { MeshpartyError } from '../util/errors.js';
import type { PeerId } from './protocol.js';

/** Connection state of a signaling client. */
export type SignalingStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Events of a {@link Signaling}. */
export interface SignalingEvents {
  /**
   * Joined (or rejoined after a relay outage): own id and the peers already there.
   * `fresh`: the relay made up this id just now (none was asked for), so no peer can
   * still hold a connection to an earlier holder of it.
   */
  joined: { selfId: PeerId; peers: PeerId[]; fresh?: boolean };
  'peer-joined': PeerId;
  'peer-left': PeerId;
  /** A signal from `from` (stamped by the relay, so it cannot be spoofed by clients). */
  signal: { from: PeerId; data: unknown };
  status: SignalingStatus;
  /** A refusal or failure; fatal ones (`room-full`, token errors) are followed by status `closed`. */
  error: MeshpartyError;
  /**
   * The relay refused a connection attempt as a whole (`server-full`,
   * `too-many-connections-from-ip`, or `rate-limited` in answer to the join: the address's
   * join rate): not fatal, the next attempt follows with backoff after
   * `detail.retryInMs`. Once per refused attempt; not for the attempt a `relay-unreachable`
   * error ends (its `detail.lastRefusal` has the code).
   */
  refused: MeshpartyError;
}

/** Membership of one room at the relay, plus addressed signals to its members. */
export interface Signaling {
  readonly status: SignalingStatus;
  /** Start joining; keeps rejoining with backoff (same peer id) until `close()`. */
  join(): void;
  /** Send an opaque payload to one peer of the room. Dropped (not queued) while disconnected. */
  sendSignal(to: PeerId, data: unknown): void;
  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof SignalingEvents>(event: K, listener: (value: SignalingEvents[K]) => void): () => void;
  /** Leave the room and stop reconnecting; idempotent. */
  close(): void;
}
