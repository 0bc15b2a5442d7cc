/**
 * Entry point that runs meshparty's relay alone in a process, for benchmarks that
 * measure it from outside (memory via /proc, like any other server). Run as
 * `node --import tsx meshparty-relay-main.ts`; options for `createSignalingServer`
 * come as JSON in `MESHPARTY_RELAY_OPTIONS` (host defaults to 127.0.0.1, port to 0).
 * Set MESHPARTY_RELAY_LOG=1 to keep its log lines (stderr), MESHPARTY_RELAY_REDIS=redis://... to
 * run it as one instance of a relay cluster. Prints one line `{"event":"listening","port":N}` when ready; SIGTERM closes it.
 */
import { createRedisCluster, createSignalingServer } from '../../../signaling/index.js';

const options = JSON.parse(process.env.MESHPARTY_RELAY_OPTIONS ?? '{}') as Record<string, unknown>;
// Silent unless asked: y-webrtc's server logs nothing per connection either.
const logger = process.env.MESHPARTY_RELAY_LOG ? undefined : () => {};
// MESHPARTY_RELAY_REDIS=redis://...: this process is one instance of a relay cluster.
const redisUrl = process.env.MESHPARTY_RELAY_REDIS;
const cluster = redisUrl ? await createRedisCluster({ url: redisUrl, logger }) : undefined;
const server = await createSignalingServer({ host: '127.0.0.1', port: 0, logger, cluster, ...options } as Parameters<
  typeof createSignalingServer
>[0]);
console.log(JSON.stringify({ event: 'listening', port: server.address.port }));

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  void Promise.resolve(server.close()).finally(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
