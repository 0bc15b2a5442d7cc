/**
 * The meshparty signaling relay, embeddable: `createSignalingServer(options)`.
 * The wire protocol is in PROTOCOL.md; its TypeScript types are in
 * `src/signaling-client/protocol.ts`.
 *
 * @example
 * ```ts
 * import { createSignalingServer, createRoomToken } from './signaling/index.js';
 * const relay = await createSignalingServer({ port: 4444, secret: 's3cret' });
 * const token = createRoomToken({ secret: 's3cret', room: 'lobby', expiresInSeconds: 3600 });
 * ```
 */
export { createSignalingServer, type SignalingServer } from './server.js';
export { createRoomToken, verifyRoomToken, type RoomTokenOptions, type TokenRefusal } from './tokens.js';
export { DEFAULT_LIMITS, type RelayLimits, type SignalingServerOptions } from './options.js';
export type { ClusterHealth, RelayMetrics } from './metrics.js';
export { createJsonLogger, silentLogger, type LogEntry, type LogLevel, type LogStream, type RelayLogger } from './logger.js';
export { InMemoryRoomDirectory, type DirectoryMember, type RoomDirectory } from './room-directory.js';
export { createRedisCluster, type RedisClusterOptions } from './cluster/create-redis-cluster.js';
export { ClusterError, type ClusterErrorCode, type RelayCluster } from './cluster/relay-cluster.js';
