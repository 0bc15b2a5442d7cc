/**
 * What `createSignalingServer({ cluster })` needs of a relay cluster: directories shared
 * with the other instances, shared resume keys, and a way to leave. Kept apart from the
 * Redis implementation so the relay never imports a Redis client itself.
 */
import type { SharedResumeKeys } from '../resume-keys.js';
import type { RoomDirectory } from '../room-directory.js';

/**
 * One relay instance's link to the others (see `createRedisCluster`).
 *
 * @example
 * ```ts
 * const cluster = await createRedisCluster({ url: 'redis://127.0.0.1:6379' });
 * const relay = await createSignalingServer({ port: 4444, cluster });
 * await relay.close(); // leaves the cluster too
 * ```
 */
export interface RelayCluster {
  /** This instance's id in the cluster (random unless given). */
  readonly instanceId: string;
  /** meshparty rooms, shared by every instance. */
  readonly rooms: RoomDirectory;
  /** y-webrtc topics, shared by every instance. */
  readonly topics: RoomDirectory;
  /** Resume keys shared by every instance (internal to the relay). */
  readonly resumeKeys: SharedResumeKeys;
  /** Connected to Redis and in sync with the others. */
  readonly connected: boolean;
  /**
   * Leave the cluster: the other instances drop this one's members at once (announcing
   * them as left) and keep their resume keys for the grace period; then disconnect.
   * Idempotent. A relay given a cluster calls this first thing in its `close()`.
   */
  close(): Promise<void>;
}

/**
 * Error codes of a relay cluster.
 *
 * @example
 * ```ts
 * const retryable = (code: ClusterErrorCode) => code === 'redis-unavailable';
 * ```
 */
export type ClusterErrorCode = 'redis-unavailable' | 'redis-options-invalid';

/**
 * An error of a relay cluster, with a stable `code`.
 *
 * @example
 * ```ts
 * try { await createRedisCluster({ url }); } catch (e) { if (e instanceof ClusterError && e.code === 'redis-unavailable') retryLater(); }
 * ```
 */
export class ClusterError extends Error {
  constructor(
    readonly code: ClusterErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ClusterError';
  }
}
