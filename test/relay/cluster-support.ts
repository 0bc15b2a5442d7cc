/**
 * For relay cluster tests: a redis-server of the test's own and relay instances joined
 * to it in this process (createRedisCluster + createSignalingServer), all stopped after
 * each test. Heartbeats are short so a dead instance is noticed within about a second.
 */
import { afterEach } from 'vitest';
import { createRedisCluster, type LogEntry, type RedisClusterOptions, type SignalingServerOptions } from '../../signaling/index.js';
import { waitFor } from '../support/net.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startRelay, type Received, type RelayTestClient, type TestRelay } from './client.js';
import type { RedisProxy } from './redis-proxy.js';

export const TEST_HEARTBEAT_MS = 200;
export const TEST_INSTANCE_TTL_MS = 1500;

/** A relay instance of a test cluster; `logs` holds the relay's and the cluster's lines. */
export interface ClusterRelay extends TestRelay {
  readonly clusterLogs: LogEntry[];
}

/**
 * Call at the top level of a test file: `redis()` starts a redis-server, `relay(redis)`
 * an instance joined to it; both are stopped after each test (relays first).
 */
export function clusterStoppedAfterEach(): {
  redis(): Promise<TestRedis>;
  relay(redis: TestRedis, options?: SignalingServerOptions, cluster?: Partial<RedisClusterOptions>): Promise<ClusterRelay>;
} {
  const relays: TestRelay[] = [];
  const servers: TestRedis[] = [];
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  return {
    async redis() {
      const s = await startRedis();
      servers.push(s);
      return s;
    },
    async relay(redis, options = {}, clusterOptions = {}) {
      const clusterLogs: LogEntry[] = [];
      const cluster = await createRedisCluster({
        url: redis.url,
        heartbeatMs: TEST_HEARTBEAT_MS,
        instanceTtlMs: TEST_INSTANCE_TTL_MS,
        logger: (e) => clusterLogs.push(e),
        ...clusterOptions,
      });
      const r = await startRelay({ cluster, ...options });
      relays.push(r);
      return Object.assign(r, { clusterLogs });
    },
  };
}

/**
 * Join `room` and return the peers the client knows of once it knows `expected`: a join
 * on one instance just after one on another may not list it yet (its `add` is still on
 * the way), and then that one's `peer-joined` reaches the newcomer instead.
 */
export async function joinKnowing(client: RelayTestClient, room: string, expected: string[], extra: Record<string, unknown> = {}): Promise<{ peerId: string; peers: string[] }> {
  const reply = await client.join(room, extra);
  if (reply.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(reply)}`);
  const known = new Set(reply.peers);
  while (!expected.every((p) => known.has(p))) {
    known.add(String((await client.next((m) => m.type === 'peer-joined' && m.room === room)).peerId));
  }
  return { peerId: reply.peerId, peers: [...known].sort() };
}

/**
 * alice on `a` and bob on `b`, both in room `r`, each known to the other (alice has heard
 * bob join): the starting point of most cross-instance tests.
 */
export async function pairAcross(a: TestRelay, b: TestRelay): Promise<{ alice: RelayTestClient; bob: RelayTestClient }> {
  const alice = await a.connect();
  await alice.join('r', { peerId: 'alice' });
  const bob = await b.connect();
  await joinKnowing(bob, 'r', ['alice'], { peerId: 'bob' });
  await alice.next((m) => m.type === 'peer-joined' && m.peerId === 'bob');
  return { alice, bob };
}

/** The room's announcements in `frames`, as `peer-joined alice` / `peer-left alice`. */
export const announcements = (frames: Received[]): string[] =>
  frames.filter((m) => m.type === 'peer-joined' || m.type === 'peer-left').map((m) => `${m.type} ${String(m.peerId)}`);

/** Returns once each instance's news published so far has reached the other (a new room each way). */
export async function barrier(a: TestRelay, b: TestRelay): Promise<void> {
  for (const [from, to] of [[a, b], [b, a]] as const) {
    const rooms = to.relay.metrics().rooms;
    const probe = await from.connect();
    await probe.join(`probe-${Math.random()}`);
    await waitFor(() => to.relay.metrics().rooms > rooms, 'the barrier', 5000);
  }
}

/** Let A (behind `proxy`) back to Redis after a cut; returns once it synced and its news since reached B. */
export async function reconnect(proxy: RedisProxy, a: ClusterRelay, b: ClusterRelay): Promise<void> {
  const synced = (): number => a.clusterLogs.filter((l) => l.event === 'cluster-synced').length;
  const before = synced();
  proxy.restore();
  await waitFor(() => synced() > before, 'A to sync again', 10_000);
  await barrier(a, b);
}
