/**
 * The relay process surface: one HTTP server on one port that upgrades WebSockets to the
 * relay protocol (and serves `http-routes.ts`). Wiring, the heartbeat, aggregated logging
 * and graceful shutdown live here; who may connect is `admission.ts`, message handling
 * is `relay-protocol.ts`.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_CODES } from '../src/signaling-client/protocol.js';
import { Admission, type Refusal } from './admission.js';
import { addressKey, clientAddress } from './client-address.js';
import { ClientConnection } from './client-connection.js';
import { createHttpHandler } from './http-routes.js';
import { createJsonLogger, type RelayLogger } from './logger.js';
import { clusterHealth, MetricsCounters, type RelayMetrics } from './metrics.js';
import { resolveOptions, type SignalingServerOptions } from './options.js';
import { PartialBudget, partialBytes } from './partial-budget.js';
import { RelayProtocol } from './relay-protocol.js';
import { InMemoryRoomDirectory } from './room-directory.js';
import { SendBudget } from './send-budget.js';
import { SocketLimit } from './socket-limit.js';

/**
 * A running relay, from {@link createSignalingServer}.
 *
 * @example
 * ```ts
 * const relay: SignalingServer = await createSignalingServer({ port: 0 });
 * new WebSocket(relay.address.url);
 * ```
 */
export interface SignalingServer {
  /** Where it listens; `url` is the WebSocket URL clients connect to. */
  readonly address: { host: string; port: number; url: string };
  /** A snapshot of the counters (the same JSON as `GET /metrics`). */
  metrics(): RelayMetrics;
  /** Stop accepting, close every client with 1001, and resolve once all is shut. Idempotent. */
  close(): Promise<void>;
}

/** Close reason (with 1013) of a connection closed over `maxTotalPartialBytes`. */
const PARTIAL_BUDGET_REASON = 'partial-bytes-over-budget';

/** Refused sockets still closing; past this many, further refusals skip the error frame. */
const MAX_PENDING_REFUSALS = 256;

/** The answer to a TCP socket over `maxSocketsPerIp`, written before its request is read. */
const TOO_MANY_SOCKETS_RESPONSE =
  'HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 25\r\n\r\ntoo-many-sockets-from-ip\n';

/**
 * Start a signaling relay; resolves once it is listening. Rejects when it cannot start
 * (an option out of range, the port in use), after closing `options.cluster`, which the
 * relay owns from here as its `close()` shows.
 *
 * @example
 * ```ts
 * const relay = await createSignalingServer({ port: 0, maxPeersPerRoom: 8 });
 * console.log(relay.address.url); // ws://127.0.0.1:54321
 * await relay.close();
 * ```
 */
export async function createSignalingServer(options: SignalingServerOptions = {}): Promise<SignalingServer> {
  try {
    return await startSignalingServer(options);
  } catch (err) {
    // A relay that does not start leaves the cluster it was given (it owns it, as close()
    // shows): left connected, it would keep the process running after the error, an
    // instance with no port that the others take for alive.
    await options.cluster?.close().catch(() => {});
    throw err;
  }
}

async function startSignalingServer(options: SignalingServerOptions): Promise<SignalingServer> {
  const opts = resolveOptions(options);
  const sink = options.logger ?? createJsonLogger();
  // A throwing logger must not take a connection handler (or the process) down with it.
  const log: RelayLogger = (entry) => {
    try {
      sink(entry);
    } catch {
      /* dropped */
    }
  };
  const counters = new MetricsCounters();
  const { cluster } = options;
  const rooms = cluster?.rooms ?? options.rooms ?? new InMemoryRoomDirectory();
  const topics = cluster?.topics ?? options.topics ?? new InMemoryRoomDirectory();
  const protocol = new RelayProtocol(opts, rooms, topics, counters, log, cluster?.resumeKeys);
  const startedAt = opts.now();

  const live = new Set<ClientConnection>();
  const refused = new Set<WebSocket>();
  const admission = new Admission(opts);
  let closing: Promise<void> | undefined;
  /** Set as shutdown starts: departures are not announced to clients being closed anyway. */
  let shuttingDown = false;

  const metrics = (): RelayMetrics => ({
    connections: live.size,
    rooms: rooms.roomCount(),
    topics: topics.roomCount(),
    partialBytes: partial.total,
    messagesIn: counters.messagesIn,
    messagesOut: counters.messagesOut,
    rejections: { ...counters.rejections },
    slowConsumerDrops: counters.slowConsumerDrops,
    heartbeatDrops: counters.heartbeatDrops,
    partialBudgetDrops: counters.partialBudgetDrops,
    connectionsTotal: counters.connectionsTotal,
    uptimeSeconds: Math.round((opts.now() - startedAt) / 1000),
    ...(cluster ? { cluster: clusterHealth(cluster) } : {}),
  });

  const wss = new WebSocketServer({
    noServer: true,
    // The hard ceiling, enforced by ws before a frame is buffered. Frames between
    // maxFrameBytes and this are still read so the client can be told `frame-too-large`.
    maxPayload: opts.maxFrameBytes * 2,
    perMessageDeflate: false, // compression would let a small frame inflate past our limits
    clientTracking: false,
  });

  const budget = new SendBudget<ClientConnection>(opts.maxTotalBufferedBytes, (conn, total) => {
    counters.slowConsumerDrops++;
    log({ level: 'warn', event: 'slow-consumer-dropped', conn: conn.id, ip: conn.ip, buffered: conn.ws.bufferedAmount, relayTotal: total });
    conn.end('slow-consumer', 0, '');
  });
  const onSent = (conn: ClientConnection): void => {
    counters.messagesOut++;
    budget.sent(conn);
  };
  const onSlowConsumer = (conn: ClientConnection): void => {
    if (conn.ended) return;
    counters.slowConsumerDrops++;
    log({ level: 'warn', event: 'slow-consumer-dropped', conn: conn.id, ip: conn.ip, buffered: conn.ws.bufferedAmount });
    conn.end('slow-consumer', 0, '');
  };

  const partial = new PartialBudget<ClientConnection>(opts.maxTotalPartialBytes, (conn, held, total) => {
    counters.partialBudgetDrops++;
    log({ level: 'warn', event: 'partial-budget-dropped', conn: conn.id, ip: conn.ip, held, relayTotal: total });
    conn.end('partial-budget', CLOSE_CODES.tryAgainLater, PARTIAL_BUDGET_REASON);
  });

  const accept = (ws: WebSocket, ip: string, socket: Duplex): void => {
    const conn = new ClientConnection(ws, ip, opts, onSent, onSlowConsumer);
    conn.onEnd = () => {
      budget.forget(conn); // first: its departure is told to the others, which counts their sends
      partial.forget(conn);
      protocol.onClose(conn, !shuttingDown);
    };
    // After ws's own listener (added as it took the socket), which has just parsed the chunk.
    socket.on('data', () => {
      if (!conn.ended) partial.measured(conn, partialBytes(ws));
    });
    live.add(conn);
    admission.opened(ip);
    counters.connectionsTotal++;
    log({ level: 'info', event: 'connection-open', conn: conn.id, ip });
    ws.on('message', (data, isBinary) => protocol.onFrame(conn, data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    // ws answers pings itself and terminates a client with 60 pongs it has not read; it
    // says so only by having stopped being open when it tells us of the ping. Without a
    // reason of ours the close would be logged as the client's.
    ws.on('ping', () => {
      if (ws.readyState !== ws.OPEN) conn.dropReason ??= 'ping-flood';
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws already closes the socket; the frame-size ceiling is the one we count.
      const tooLarge = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
      if (tooLarge) counters.reject('frame-too-large');
      conn.dropReason ??= tooLarge ? 'frame-too-large' : 'protocol-error';
      log({ level: 'warn', event: 'socket-error', conn: conn.id, code: err.code ?? 'unknown' });
    });
    ws.on('close', (code, reason) => {
      live.delete(conn);
      admission.closed(ip);
      conn.ended = true;
      budget.forget(conn);
      partial.forget(conn);
      // The client's own close frame (1000, 1001 going away, 1005 none given): it left on
      // purpose, so its ids are free at once; a lost connection (1006) keeps them reserved.
      const closedByClient = conn.dropReason === undefined && (code === 1000 || code === 1001 || code === 1005);
      protocol.onClose(conn, !shuttingDown, !shuttingDown && !closedByClient); // a no-op if the relay ended it and already left its rooms
      log({
        level: 'info',
        event: 'connection-close',
        conn: conn.id,
        ip,
        code,
        reason: conn.dropReason ?? (reason.toString('utf8').slice(0, 64) || 'client'),
        refusals: conn.refusals,
        seconds: Math.round((opts.now() - conn.openedAt) / 1000),
      });
    });
  };

  const refuseConnection = (ws: WebSocket, refusal: Refusal): void => {
    counters.reject(refusal.code);
    refused.add(ws);
    ws.on('error', () => {});
    ws.on('close', () => refused.delete(ws));
    ws.send(JSON.stringify({ type: 'error', code: refusal.code, message: refusal.message }));
    ws.close(refusal.close, refusal.code);
    setTimeout(() => ws.terminate(), 2000).unref();
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => {}); // a reset mid-handshake is the client's problem, not ours
    if (shuttingDown) {
      socket.destroy();
      return;
    }
    const ip = clientAddress(req, opts.trustProxy);
    const refusal = admission.check(req, ip, live.size);
    if (refusal && refused.size >= MAX_PENDING_REFUSALS) {
      // Under a connection flood, explaining each refusal costs more than it helps.
      counters.reject(refusal.code);
      socket.destroy();
      return;
    }
    // ws completes the upgrade synchronously here, so the counts checked above still hold.
    wss.handleUpgrade(req, socket, head, (ws) => (refusal ? refuseConnection(ws, refusal) : accept(ws, ip, socket)));
  };

  // Node's own defaults leave a silent TCP connection open for a minute or more (headers
  // timeout 60 s, checked every 30 s), outside every connection limit.
  const http = createServer(
    {
      headersTimeout: opts.handshakeTimeoutMs,
      requestTimeout: opts.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, opts.handshakeTimeoutMs),
    },
    createHttpHandler(metrics, () => (cluster ? { ok: true, cluster: clusterHealth(cluster) } : { ok: true })),
  );
  http.on('upgrade', onUpgrade);
  http.on('clientError', (_err, socket) => socket.destroy());

  // Sockets per address, from accept on. The HTTP server takes each TCP connection through
  // its own 'connection' listener; ours stands in front of it and hands over only sockets
  // under the cap, so a refused one gets no HTTP parser and costs one write and a close.
  // Behind a trusted proxy every socket is the proxy's: not capped here.
  const socketLimit = new SocketLimit(opts.maxSocketsPerIp);
  const refusedSockets = new Set<Socket>();
  const httpConnection = http.listeners('connection');
  if (httpConnection.length !== 1) throw new Error('unexpected HTTP server: expected one connection listener');
  http.removeAllListeners('connection');
  const refuseSocket = (socket: Socket): void => {
    counters.reject('too-many-sockets-from-ip');
    socket.on('error', () => {});
    if (refusedSockets.size >= MAX_PENDING_REFUSALS) {
      socket.destroy(); // under a flood, explaining each refusal costs more than it helps
      return;
    }
    refusedSockets.add(socket);
    socket.once('close', () => refusedSockets.delete(socket));
    socket.resume(); // drop what it sends, so the close is not a reset that loses the answer
    socket.end(TOO_MANY_SOCKETS_RESPONSE);
    setTimeout(() => socket.destroy(), 2000).unref();
  };
  http.on('connection', (socket: Socket) => {
    if (!opts.trustProxy && opts.maxSocketsPerIp !== Infinity) {
      const address = addressKey(socket.remoteAddress ?? 'unknown');
      if (!socketLimit.admit(address)) return refuseSocket(socket);
      socket.once('close', () => socketLimit.release(address));
    }
    httpConnection[0]!.call(http, socket);
  });

  const heartbeat = setInterval(() => {
    for (const conn of live) {
      if (conn.ended) continue;
      if (!conn.alive) {
        counters.heartbeatDrops++;
        conn.end('heartbeat', 0, '');
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.end('heartbeat', 0, '');
      }
    }
  }, opts.heartbeatIntervalMs);
  heartbeat.unref();

  const flushRefusals = (): void => {
    const pending = counters.drainPending();
    if (pending) log({ level: 'warn', event: 'refusals', counts: pending });
    const sockets = socketLimit.drainRefused();
    if (sockets) log({ level: 'warn', event: 'sockets-refused', max: opts.maxSocketsPerIp, ...sockets });
  };
  const logTimer = setInterval(flushRefusals, opts.logIntervalMs);
  logTimer.unref();

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      clearInterval(heartbeat); // no relay to beat for (and one more per failed start otherwise)
      clearInterval(logTimer);
      reject(err);
    };
    http.once('error', failed);
    http.listen(opts.port, opts.host, () => {
      http.off('error', failed);
      resolve();
    });
  });
  http.on('error', (err) => log({ level: 'error', event: 'http-error', error: String(err) }));

  const bound = http.address();
  const port = typeof bound === 'object' && bound ? bound.port : opts.port;
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const address = { host: opts.host, port, url: `ws://${urlHost}:${port}` };
  log({ level: 'info', event: 'start', url: address.url, secret: Boolean(opts.secret) });

  const shutdown = async (): Promise<void> => {
    shuttingDown = true;
    // First: the other instances then announce our members as left (and keep their resume
    // keys), while the departures below stay local, as on a lone relay.
    await cluster?.close();
    clearInterval(heartbeat);
    clearInterval(logTimer);
    const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    const sockets = [...[...live].map((c) => c.ws), ...refused];
    const allClosed = Promise.all(
      sockets.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise<void>((resolve) => ws.once('close', () => resolve())))),
    );
    for (const conn of live) conn.end('shutdown', CLOSE_CODES.goingAway, 'server shutting down', 1500);
    http.closeAllConnections(); // idle keep-alive HTTP connections would hold close() open
    for (const socket of refusedSockets) socket.destroy();
    await allClosed;
    await httpClosed;
    wss.close();
    flushRefusals();
    log({ level: 'info', event: 'stop', url: address.url, connectionsTotal: counters.connectionsTotal });
  };

  return {
    address,
    metrics,
    close: () => (closing ??= shutdown()),
  };
}
