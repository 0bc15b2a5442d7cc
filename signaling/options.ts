/**
 * Everything a relay can be configured with, and the safe defaults. Every limit is here,
 * in one place, so the CLI, PROTOCOL.md and the tests agree on names.
 */
import type { RelayCluster } from './cluster/relay-cluster.js';
import type { RelayLogger } from './logger.js';
import type { RoomDirectory } from './room-directory.js';

/**
 * Limits a relay enforces. All optional in {@link SignalingServerOptions}; see {@link DEFAULT_LIMITS}.
 * Each must be a positive number; `Infinity` turns a limit off.
 *
 * @example
 * ```ts
 * const limits: Partial<RelayLimits> = { maxPeersPerRoom: 8, messagesPerSecond: 50 };
 * await createSignalingServer({ port: 0, ...limits });
 * ```
 */
export interface RelayLimits {
  /** Largest accepted frame in bytes; bigger ones get `frame-too-large` and close 1009. */
  maxFrameBytes: number;
  /** Sustained messages per second per connection (token bucket refill rate). */
  messagesPerSecond: number;
  /** Messages a connection may send in a burst (token bucket size). */
  messageBurst: number;
  /**
   * Sustained frame bytes per second per connection. Signalling is small (an SDP is a few
   * KiB); without a byte budget one member could send another 64 KiB frames at the
   * message rate (6 MB/s) and get any member reading slower than that dropped at its
   * send-buffer cap.
   */
  bytesPerSecond: number;
  /** Frame bytes a connection may send in a burst (a join in a full room sends one offer per member). */
  byteBurst: number;
  /**
   * Sustained room joins per second from one client address (IPv4 address or IPv6 /64, as
   * for `maxConnectionsPerIp`), all its connections together. Each join has every member
   * of the room start a peer connection, so join/leave churn is costly for the others.
   */
  joinsPerSecond: number;
  /** Joins one address may make in a burst (a NAT of `maxConnectionsPerIp` clients each joining a room). */
  joinBurst: number;
  /** Rooms plus y-webrtc topics one connection may be in at once. */
  maxRoomsPerConnection: number;
  /** Members of one room (or subscribers of one topic). */
  maxPeersPerRoom: number;
  /** Longest room or topic name, in UTF-16 code units. */
  maxRoomNameLength: number;
  /** Open WebSocket connections in total; more are refused with `server-full`, close 1013. */
  maxConnections: number;
  /** Open connections from one IP address (IPv6: one /64); more are refused with close 1008. */
  maxConnectionsPerIp: number;
  /**
   * Open TCP sockets from one IP address (IPv6: one /64), before the WebSocket upgrade
   * (still sending its HTTP request, or not at all) and after it; more are answered
   * `429 Too Many Requests` and closed without being read. Not applied with `trustProxy`,
   * where every socket comes from the proxy (upgraded connections are still counted per
   * forwarded address by `maxConnectionsPerIp`).
   */
  maxSocketsPerIp: number;
  /**
   * Peer ids remembered with their resume key after their holder disconnected (for
   * `resumeGraceMs`); past this many the oldest are forgotten first. Bounds the memory
   * disconnect churn can make the relay keep.
   */
  maxRememberedPeerIds: number;
  /** Bytes that may wait in one client's send buffer; over it the client is dropped. */
  maxBufferedBytes: number;
  /** Bytes that may wait in all clients' send buffers together; over it the largest are dropped. */
  maxTotalBufferedBytes: number;
  /**
   * Bytes of messages still arriving (a frame partly received, or the first fragments of
   * a message) on all connections together; over it the connections holding the most are
   * closed with 1013. Each connection is bounded by 2 × `maxFrameBytes` on its own, but
   * `maxConnections` of them could hold 10 000 × 128 KiB by sending most of a frame and
   * stalling.
   */
  maxTotalPartialBytes: number;
  /** Refused messages (error frames) within `strikeWindowMs` before a connection is closed for `abuse`. */
  strikeLimit: number;
  strikeWindowMs: number;
}

/**
 * The defaults: sized for a public relay serving small rooms of browsers.
 *
 * @example
 * ```ts
 * await createSignalingServer({ maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes * 2 });
 * ```
 */
export const DEFAULT_LIMITS: Readonly<RelayLimits> = Object.freeze({
  maxFrameBytes: 64 * 1024,
  messagesPerSecond: 100,
  messageBurst: 200,
  bytesPerSecond: 128 * 1024,
  byteBurst: 1024 * 1024,
  joinsPerSecond: 4,
  joinBurst: 64,
  maxRoomsPerConnection: 32,
  maxPeersPerRoom: 64,
  maxRoomNameLength: 256,
  maxConnections: 10_000,
  maxConnectionsPerIp: 64,
  maxSocketsPerIp: 256,
  maxRememberedPeerIds: 20_000,
  maxBufferedBytes: 1024 * 1024,
  maxTotalBufferedBytes: 256 * 1024 * 1024,
  maxTotalPartialBytes: 64 * 1024 * 1024,
  strikeLimit: 20,
  strikeWindowMs: 10_000,
});

/**
 * Options of `createSignalingServer`.
 *
 * @example
 * ```ts
 * const server = await createSignalingServer({ host: '127.0.0.1', port: 4444, maxPeersPerRoom: 8 });
 * ```
 */
export interface SignalingServerOptions extends Partial<RelayLimits> {
  /** Interface to listen on; default `127.0.0.1`. Use `0.0.0.0` to serve a network. */
  host?: string;
  /** TCP port; `0` lets the OS choose (read it back from `address.port`). Default 4444. */
  port?: number;
  /** With a secret, `join` needs a room token signed with it (see `createRoomToken`). */
  secret?: string;
  /**
   * With a secret, y-webrtc `subscribe`/`publish` are refused (`token-required`), since
   * y-webrtc clients cannot send tokens. Set this to let them through anyway.
   */
  allowUnauthenticatedTopics?: boolean;
  /**
   * Behind a reverse proxy: count and log clients by the last `X-Forwarded-For` entry
   * (the one the proxy appended; a port after its address is ignored) instead of the
   * proxy's own address. Only set this when
   * every connection comes through your proxy, or clients can pick their own address.
   * `maxSocketsPerIp` is then off (every TCP socket is the proxy's): cap half-open
   * connections per client at the proxy.
   */
  trustProxy?: boolean;
  /** If set, only WebSocket upgrades whose `Origin` header is in this list are accepted. */
  allowedOrigins?: string[];
  /** How often each connection is pinged; one missed pong and it is terminated. Default 30 s. */
  heartbeatIntervalMs?: number;
  /**
   * How long a peer id stays reserved for its holder's resume key after the holder
   * disconnected (not after an explicit `leave`): a join proposing it with another key
   * or none meanwhile gets `peer-id-taken`. `0` remembers nothing after a disconnect (a
   * live holder is still replaced by a join with its key). Default 60 s.
   */
  resumeGraceMs?: number;
  /**
   * How long a TCP connection may take to send its HTTP request (the WebSocket upgrade,
   * or `/health`) before it is closed. Such a connection is counted only by
   * `maxSocketsPerIp`, so this bounds how long it can hold one of those. Default 10 s.
   */
  handshakeTimeoutMs?: number;
  /** How often aggregated refusal counts are logged (never one line per frame). Default 10 s. */
  logIntervalMs?: number;
  /** Structured log sink; default JSON lines on stderr. */
  logger?: RelayLogger;
  /** Room membership and delivery; default in-memory (one process). */
  rooms?: RoomDirectory;
  /** The same for y-webrtc topics (a separate namespace); default in-memory. */
  topics?: RoomDirectory;
  /**
   * Share rooms, topics and resume keys with other relay instances (see
   * `createRedisCluster`); takes the place of `rooms` and `topics`. The relay leaves the
   * cluster first thing in its `close()`, and when it fails to start.
   */
  cluster?: RelayCluster;
  /** Clock in ms since the epoch, for token expiry and rate limits (tests). */
  now?: () => number;
}

/** Options with every default filled in. */
export interface ResolvedOptions extends RelayLimits {
  host: string;
  port: number;
  secret: string | undefined;
  allowUnauthenticatedTopics: boolean;
  trustProxy: boolean;
  allowedOrigins: ReadonlySet<string> | undefined;
  heartbeatIntervalMs: number;
  resumeGraceMs: number;
  handshakeTimeoutMs: number;
  logIntervalMs: number;
  now: () => number;
}

/** Limits must be positive; `Infinity` means "no limit". */
function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** A duration that may be 0 (off) or Infinity (for good). */
function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0)) throw new RangeError(`${name} must be 0 or more, got ${value}`);
  return value;
}

/** Timer periods must be finite: Node turns an over-large delay into 1 ms. */
function interval(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || value > 2 ** 31 - 1) throw new RangeError(`${name} must be 1..2147483647 ms, got ${value}`);
  return value;
}

/** Fill defaults and check that every limit is a positive number or Infinity (throws RangeError). */
export function resolveOptions(options: SignalingServerOptions): ResolvedOptions {
  const limits = { ...DEFAULT_LIMITS } as RelayLimits;
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof RelayLimits)[]) {
    const given = options[key];
    if (given !== undefined) limits[key] = positive(key, given);
  }
  const port = options.port ?? 4444;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be 0-65535, got ${port}`);
  return {
    ...limits,
    host: options.host ?? '127.0.0.1',
    port,
    secret: nonEmptySecret(options.secret),
    allowUnauthenticatedTopics: options.allowUnauthenticatedTopics ?? false,
    trustProxy: options.trustProxy ?? false,
    allowedOrigins: options.allowedOrigins ? new Set(options.allowedOrigins) : undefined,
    heartbeatIntervalMs: interval('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 30_000),
    resumeGraceMs: nonNegative('resumeGraceMs', options.resumeGraceMs ?? 60_000),
    handshakeTimeoutMs: interval('handshakeTimeoutMs', options.handshakeTimeoutMs ?? 10_000),
    logIntervalMs: interval('logIntervalMs', options.logIntervalMs ?? 10_000),
    now: options.now ?? Date.now,
  };
}

/**
 * An empty secret is refused, not read as "no secret": `--secret "$SECRET"` with SECRET
 * unset would otherwise start an open relay without a word. Only an absent secret does.
 */
function nonEmptySecret(secret: string | undefined): string | undefined {
  if (secret === '') throw new RangeError('secret must not be empty (omit it for a relay without tokens)');
  return secret;
}
