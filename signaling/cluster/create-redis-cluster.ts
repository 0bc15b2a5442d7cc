/**
 * `createRedisCluster(options)`: validate the options, connect, and join the relay cluster
 * in Redis (how the cluster works is in redis-cluster.ts).
 */
import { randomBytes } from 'node:crypto';
import type { RelayLogger } from '../logger.js';
import { RedisRelayCluster } from './redis-cluster.js';
import { ClusterError, type RelayCluster } from './relay-cluster.js';

/**
 * Options of {@link createRedisCluster}.
 *
 * @example
 * ```ts
 * const options: RedisClusterOptions = { url: 'redis://127.0.0.1:6379', heartbeatMs: 1000, instanceTtlMs: 3000 };
 * ```
 */
export interface RedisClusterOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  url: string;
  /** This instance's id; default random. Must be unique in the cluster. */
  instanceId?: string;
  /** Prefix of every Redis key and channel; default `meshparty:`. One cluster per prefix. */
  prefix?: string;
  /** How often the heartbeat is refreshed and the others' checked; default 2000 ms. */
  heartbeatMs?: number;
  /** How long a heartbeat lives; default 6000 ms (3 beats). The ghost bound is this plus `heartbeatMs`. */
  instanceTtlMs?: number;
  /** How long a dead instance's resume keys are kept; use the relay's `resumeGraceMs` (default 60000). */
  resumeGraceMs?: number;
  /** How long to wait for Redis at start before failing with `redis-unavailable`; default 5000 ms. */
  connectTimeoutMs?: number;
  /** Structured log sink (as the relay's). */
  logger?: RelayLogger;
}


const PREFIX_PATTERN = /^[A-Za-z0-9:_.-]{0,64}$/;

/**
 * Connect to Redis and join the relay cluster there; resolves once in sync. Rejects with a
 * {@link ClusterError} `redis-unavailable` if Redis cannot be reached within
 * `connectTimeoutMs`, `redis-options-invalid` for bad options.
 *
 * @example
 * ```ts
 * const cluster = await createRedisCluster({ url: process.env.REDIS_URL! });
 * const relay = await createSignalingServer({ port: 4444, cluster });
 * ```
 */
export async function createRedisCluster(options: RedisClusterOptions): Promise<RelayCluster> {
  const prefix = options.prefix ?? 'meshparty:';
  const heartbeatMs = options.heartbeatMs ?? 2000;
  const ttlMs = options.instanceTtlMs ?? 6000;
  const graceMs = options.resumeGraceMs ?? 60_000;
  const instanceId = options.instanceId ?? randomBytes(6).toString('hex');
  if (!PREFIX_PATTERN.test(prefix)) throw new ClusterError('redis-options-invalid', 'prefix must be 0-64 of [A-Za-z0-9:_.-]');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(instanceId)) throw new ClusterError('redis-options-invalid', 'instanceId must be 1-64 of [A-Za-z0-9_-]');
  if (!(heartbeatMs > 0) || !(ttlMs > heartbeatMs)) throw new ClusterError('redis-options-invalid', 'need 0 < heartbeatMs < instanceTtlMs');
  if (!/^rediss?:\/\//.test(options.url)) throw new ClusterError('redis-options-invalid', 'url must start with redis:// or rediss://');
  const cluster = new RedisRelayCluster(options, prefix, instanceId, heartbeatMs, ttlMs, graceMs);
  await cluster.start(options.connectTimeoutMs ?? 5000);
  return cluster;
}
