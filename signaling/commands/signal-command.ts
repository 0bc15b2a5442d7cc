import { parseArgs } from 'node:util';
import { keepRunningWhenOutputCloses } from '../../src/util/closed-output.js';
import type { SignalingServerOptions } from '../options.js';
import { createRedisCluster } from '../cluster/create-redis-cluster.js';
import { createJsonLogger } from '../logger.js';
import { createSignalingServer } from '../server.js';
import { numberOption, type Subcommand } from './subcommand.js';

/** CLI flag -> numeric option of createSignalingServer. */
const NUMERIC_FLAGS = {
  port: 'port',
  'max-frame-bytes': 'maxFrameBytes',
  rate: 'messagesPerSecond',
  burst: 'messageBurst',
  'byte-rate': 'bytesPerSecond',
  'byte-burst': 'byteBurst',
  'join-rate': 'joinsPerSecond',
  'join-burst': 'joinBurst',
  'max-rooms': 'maxRoomsPerConnection',
  'max-peers': 'maxPeersPerRoom',
  'max-room-name': 'maxRoomNameLength',
  'max-connections': 'maxConnections',
  'max-connections-per-ip': 'maxConnectionsPerIp',
  'max-sockets-per-ip': 'maxSocketsPerIp',
  'max-buffered-bytes': 'maxBufferedBytes',
  'max-total-buffered-bytes': 'maxTotalBufferedBytes',
  'max-total-partial-bytes': 'maxTotalPartialBytes',
  'strike-limit': 'strikeLimit',
  'strike-window-ms': 'strikeWindowMs',
  'heartbeat-ms': 'heartbeatIntervalMs',
  'resume-grace-ms': 'resumeGraceMs',
  'max-remembered-peer-ids': 'maxRememberedPeerIds',
  'handshake-timeout-ms': 'handshakeTimeoutMs',
} as const satisfies Record<string, keyof SignalingServerOptions>;

/** `meshparty signal [options]`: run the relay until SIGTERM/SIGINT. */
export const signalCommand: Subcommand = {
  summary: 'run the signaling relay (WebSocket + GET /health, /metrics)',
  usage: [
    'Usage: meshparty signal [--port 4444] [--host 127.0.0.1] [options]',
    '',
    '  --host H                  interface to listen on (default 127.0.0.1; 0.0.0.0 for a network)',
    '  --port N                  TCP port (default 4444, or env PORT; 0 = any free port)',
    '  --secret S                require room tokens signed with S (or env MESHPARTY_RELAY_SECRET)',
    '  --allow-unauthenticated-topics  with a secret, still serve y-webrtc subscribe/publish',
    '  --allowed-origins A,B     only accept WebSocket upgrades from these Origins',
    '  --trust-proxy             behind a reverse proxy: the client is the last X-Forwarded-For entry',
    '  --max-frame-bytes N       largest frame (default 65536)',
    '  --rate N --burst N        messages per second per connection, and burst (default 100, 200)',
    '  --byte-rate N --byte-burst N  frame bytes per second per connection, and burst (default 131072, 1048576)',
    '  --join-rate N --join-burst N  room joins per second per client address, and burst (default 4, 64)',
    '  --max-rooms N             rooms + topics per connection (default 32)',
    '  --max-peers N             peers per room (default 64)',
    '  --max-room-name N         longest room name (default 256)',
    '  --max-connections N       connections in total (default 10000)',
    '  --max-connections-per-ip N  per IPv4 address or IPv6 /64 (default 64)',
    '  --max-sockets-per-ip N    TCP sockets per address, before and after the upgrade; more get HTTP 429 (default 256; not with --trust-proxy)',
    '  --max-buffered-bytes N    send buffer cap per client before it is dropped (default 1048576)',
    '  --max-total-buffered-bytes N  all clients\' send buffers together; over it the largest are dropped (default 268435456)',
    '  --max-total-partial-bytes N  bytes of messages still arriving, all clients together; over it the largest holders are closed 1013 (default 67108864)',
    '  --strike-limit N          refused messages within the strike window before a connection is closed (default 20)',
    '  --strike-window-ms N      the strike window (default 10000)',
    '  --heartbeat-ms N          ping interval; a client missing one pong is dropped (default 30000)',
    '  --resume-grace-ms N       keep a disconnected peer id for its resume key this long (default 60000; 0 = not at all)',
    '  --max-remembered-peer-ids N  peer ids kept so at once; the oldest go first (default 20000)',
    '  --handshake-timeout-ms N  close a TCP connection that has not sent its request by then (default 10000)',
    '  --redis URL               share rooms with other instances through Redis (or env MESHPARTY_REDIS_URL)',
    '  --redis-prefix P          Redis key and channel prefix, one cluster per prefix (default meshparty:)',
    '  --cluster-heartbeat-ms N  instance heartbeat period (default 2000)',
    '  --instance-ttl-ms N       an instance silent this long is dead; its peers are announced as left (default 6000)',
    '',
    'Logs are JSON lines on stderr. SIGTERM/SIGINT close every client with 1001 and exit.',
  ].join('\n'),
  async run(args) {
    const numeric = Object.fromEntries(Object.keys(NUMERIC_FLAGS).map((k) => [k, { type: 'string' as const }]));
    const { values } = parseArgs({
      args,
      options: {
        ...numeric,
        host: { type: 'string' },
        secret: { type: 'string' },
        'allowed-origins': { type: 'string' },
        'allow-unauthenticated-topics': { type: 'boolean' },
        'trust-proxy': { type: 'boolean' },
        redis: { type: 'string' },
        'redis-prefix': { type: 'string' },
        'cluster-heartbeat-ms': { type: 'string' },
        'instance-ttl-ms': { type: 'string' },
      },
      strict: true,
    });
    const raw = values as Record<string, string | boolean | undefined>;
    const options: SignalingServerOptions = {
      host: values.host,
      secret: values.secret ?? process.env.MESHPARTY_RELAY_SECRET,
      allowUnauthenticatedTopics: values['allow-unauthenticated-topics'],
      trustProxy: values['trust-proxy'],
      allowedOrigins: values['allowed-origins']?.split(',').map((o) => o.trim()).filter(Boolean),
    };
    for (const [flag, key] of Object.entries(NUMERIC_FLAGS)) {
      const n = numberOption(flag, raw[flag] as string | undefined);
      if (n !== undefined) options[key] = n;
    }
    options.port ??= numberOption('PORT', process.env.PORT) ?? 4444;

    const redis = values.redis ?? process.env.MESHPARTY_REDIS_URL;
    if (redis) {
      // A relay that cannot reach Redis at start fails here (code redis-unavailable); once
      // running, a Redis outage is logged and survived (see signaling/cluster/).
      options.cluster = await createRedisCluster({
        url: redis,
        prefix: values['redis-prefix'],
        heartbeatMs: numberOption('cluster-heartbeat-ms', values['cluster-heartbeat-ms']),
        instanceTtlMs: numberOption('instance-ttl-ms', values['instance-ttl-ms']),
        resumeGraceMs: options.resumeGraceMs,
        logger: (options.logger ??= createJsonLogger()),
      });
    }
    const server = await createSignalingServer(options);
    // The URL line is a courtesy; a stdout nobody reads any more must not end the relay.
    // (stderr is the log's, whose logger hears its errors itself.)
    keepRunningWhenOutputCloses([process.stdout]);
    console.log(`meshparty relay listening on ${server.address.url} (health: http://${server.address.url.slice(5)}/health)`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        void server.close().then(resolve);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return 0;
  },
};
