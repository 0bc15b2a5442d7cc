/**
 * The relay's counters, served as JSON on `GET /metrics` and by `server.metrics()`.
 */
import type { RelayErrorCode } from '../src/signaling-client/protocol.js';

/**
 * A snapshot of the relay's counters.
 *
 * @example
 * ```ts
 * const { connections, rejections } = relay.metrics();
 * if ((rejections['rate-limited'] ?? 0) > 1000) console.warn('someone is flooding');
 * ```
 */
export interface RelayMetrics {
  /** Open WebSocket connections right now. */
  connections: number;
  /** Rooms (meshparty) with at least one member right now. */
  rooms: number;
  /** y-webrtc topics with at least one subscriber right now. */
  topics: number;
  /** Bytes of messages still arriving (partly received) on all connections right now. */
  partialBytes: number;
  /** Frames received since start. */
  messagesIn: number;
  /** Frames sent since start. */
  messagesOut: number;
  /** Refusals since start, by error code (connection refusals included). */
  rejections: Partial<Record<RelayErrorCode, number>>;
  /** Connections dropped because their send buffer went over `maxBufferedBytes`. */
  slowConsumerDrops: number;
  /** Connections terminated because they missed a heartbeat. */
  heartbeatDrops: number;
  /** Connections closed (1013) because messages still arriving on all connections went over `maxTotalPartialBytes`. */
  partialBudgetDrops: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  uptimeSeconds: number;
  /** Only on a relay in a cluster (`createSignalingServer({ cluster })`): see {@link ClusterHealth}. */
  cluster?: ClusterHealth;
}

/**
 * How a relay instance stands with its cluster, on `GET /health`, `GET /metrics` and
 * `relay.metrics()`. `connected: false` means Redis is lost (or the instance is still
 * syncing after its return): the instance serves its own members only, so an operator
 * alerts on it; `/health` still answers 200, since a load balancer that took every
 * instance out when Redis fails would turn a partial outage into a full one.
 *
 * @example
 * ```ts
 * const { cluster } = relay.metrics();
 * if (cluster && !cluster.connected) console.warn(`instance ${cluster.instanceId} is cut off from Redis`);
 * ```
 */
export interface ClusterHealth {
  /** This instance's id in the cluster. */
  instanceId: string;
  /** Connected to Redis and in sync with the other instances. */
  connected: boolean;
}

/** Mutable counters owned by one relay instance. */
export class MetricsCounters {
  messagesIn = 0;
  messagesOut = 0;
  slowConsumerDrops = 0;
  heartbeatDrops = 0;
  partialBudgetDrops = 0;
  connectionsTotal = 0;
  readonly rejections: Partial<Record<RelayErrorCode, number>> = {};
  /** Refusals since the last aggregated log line. */
  pendingRejections: Partial<Record<RelayErrorCode, number>> = {};

  reject(code: RelayErrorCode): void {
    this.rejections[code] = (this.rejections[code] ?? 0) + 1;
    this.pendingRejections[code] = (this.pendingRejections[code] ?? 0) + 1;
  }

  /** Take the refusals counted since the last call (for the aggregated log line). */
  drainPending(): Partial<Record<RelayErrorCode, number>> | undefined {
    const pending = this.pendingRejections;
    if (Object.keys(pending).length === 0) return undefined;
    this.pendingRejections = {};
    return pending;
  }
}

/** A cluster's standing as `/health` and `/metrics` show it (internal to `signaling/`). */
export function clusterHealth(cluster: { readonly instanceId: string; readonly connected: boolean }): ClusterHealth {
  return { instanceId: cluster.instanceId, connected: cluster.connected };
}
