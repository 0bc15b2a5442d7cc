/**
 * Seeded chaos over a relay cluster: three in-process instances on one real redis-server,
 * four clients with fixed peer ids and resume keys joining, leaving, signalling,
 * publishing to a topic, losing their connection and coming straight back through
 * another instance; instances closed and started again, Redis restarted. After the dust
 * settles the cluster must look like one relay: every instance agrees on the room and
 * the topic, every client's view of the room (its join reply and the announcements after
 * it) is the real membership, signals from one connection arrive once and in order, a
 * final round of signals reaches every member and an absent id gets `unknown-peer`.
 *
 * CLUSTER_FUZZ_SEEDS=a-b (or one number) runs other seeds; a failure names its seed and
 * the command that replays it; CLUSTER_FUZZ_TRACE=1 prints every seed's steps.
 */
import { describe, expect, it } from 'vitest';
import { createRedisCluster, createSignalingServer, type LogEntry, type RelayCluster, type SignalingServer } from '../../signaling/index.js';
import { createRng } from '../../src/util/rng.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { waitFor } from '../support/net.js';
import { RelayTestClient } from './client.js';
import { TEST_HEARTBEAT_MS, TEST_INSTANCE_TTL_MS } from './cluster-support.js';

/**
 * Seeds whose runs close and start instances and have clients come back through another
 * instance; 29 and 400 also restart Redis (a few seconds each). The faults range runs
 * found after a restart are fixed: a late takeover of a member known from a member list
 * only (cluster-races), and member lists older than a takeover or than another instance's
 * claim on the id (cluster-stale-registration, shared-directory-conflicts). Seeds 1-450
 * of a range run pass, most restarting Redis once; CI runs these few to stay fast. 109
 * restarts Redis right after a takeover and a leave: under load that news was cut short
 * part-way, leaving a client's view one peer off (cluster-lost-news). (Seed 283's fault
 * is fixed too: cluster-unknown-takeover.test.ts.)
 */
const DEFAULT_SEEDS = [17, 18, 27, 29, 38, 48, 109, 400];
const STEPS = 120;
const PEERS = 4;
const INSTANCES = 3;
const ROOM = 'r';
const TOPIC = 't';

function seedsFromEnv(): number[] {
  const spec = process.env.CLUSTER_FUZZ_SEEDS;
  if (!spec) return DEFAULT_SEEDS;
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`CLUSTER_FUZZ_SEEDS must be a number or a range a-b, not ${spec}`);
  const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

interface Instance {
  relay: SignalingServer;
  cluster: RelayCluster;
  logs: LogEntry[];
}

interface Peer {
  id: string;
  key: string;
  conn?: RelayTestClient;
  /** Serial of `conn` (signals carry it, so order is checked per sending connection). */
  serial: number;
  inst: number;
  /** Index in conn.received of the `joined` reply of its current membership. */
  joinedAt?: number;
  sent: number;
}

/** Refusals of signals sent before, which may come while a join's reply is awaited. */
const LATE_REFUSALS = new Set(['unknown-peer', 'not-in-room']);

const RELAY_LIMITS = { joinsPerSecond: 10_000, joinBurst: 10_000, messagesPerSecond: 10_000, messageBurst: 10_000 };

async function startInstance(redis: TestRedis): Promise<Instance> {
  const logs: LogEntry[] = [];
  const cluster = await createRedisCluster({
    url: redis.url,
    heartbeatMs: TEST_HEARTBEAT_MS,
    instanceTtlMs: TEST_INSTANCE_TTL_MS,
    logger: (e) => logs.push(e),
  });
  const relay = await createSignalingServer({ host: '127.0.0.1', port: 0, cluster, logger: (e) => logs.push(e), ...RELAY_LIMITS });
  return { relay, cluster, logs };
}

/** A client's view of the room: its last join reply's peers, then the announcements after it. */
function viewOf(p: Peer): string[] {
  const frames = p.conn!.received;
  const joined = frames[p.joinedAt!]!;
  const view = new Set(joined.peers as string[]);
  for (const m of frames.slice(p.joinedAt! + 1)) {
    if (m.room !== ROOM) continue;
    if (m.type === 'peer-joined') view.add(String(m.peerId));
    if (m.type === 'peer-left') view.delete(String(m.peerId));
  }
  return [...view].sort();
}

async function runSeed(seed: number): Promise<void> {
  const rng = createRng(seed);
  const rand = () => rng.next();
  const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const trace: string[] = [];
  const redis = await startRedis();
  const instances: (Instance | undefined)[] = [];
  const peers: Peer[] = Array.from({ length: PEERS }, (_, i) => ({ id: `p${i}`, key: `key-of-peer-${i}-0123456789`, serial: 0, inst: -1, sent: 0 }));
  const allConns: RelayTestClient[] = [];
  let serials = 0;
  let redisRestarted = false;
  const live = (): number[] => instances.flatMap((x, i) => (x ? [i] : []));
  const members = (): string[] => peers.filter((p) => p.joinedAt !== undefined).map((p) => p.id).sort();

  const connect = async (p: Peer, inst: number): Promise<void> => {
    p.conn = await RelayTestClient.open(instances[inst]!.relay.address.url);
    allConns.push(p.conn);
    p.serial = ++serials;
    p.inst = inst;
    p.joinedAt = undefined;
    p.conn.send({ type: 'subscribe', topics: [TOPIC] });
  };
  const join = async (p: Peer): Promise<void> => {
    p.conn!.send({ type: 'join', v: 1, room: ROOM, peerId: p.id, resumeKey: p.key });
    // Not an earlier signal's refusal (`unknown-peer`, `not-in-room`), which names the room too.
    const reply = await p.conn!.next((m) => m.room === ROOM && (m.type === 'joined' || (m.type === 'error' && !LATE_REFUSALS.has(String(m.code)))));
    if (reply.type === 'joined') p.joinedAt = p.conn!.received.indexOf(reply);
    // A documented race: the id is still held for a moment where the peer just left.
    else if (reply.code !== 'peer-id-taken') throw new Error(`join refused: ${JSON.stringify(reply)}`);
    trace.push(`  -> ${reply.type === 'joined' ? `joined ${JSON.stringify(reply.peers)}` : String(reply.code)}`);
  };
  const drop = (p: Peer): void => {
    p.conn?.close();
    p.conn = undefined;
    p.joinedAt = undefined;
  };

  try {
    for (let i = 0; i < INSTANCES; i++) instances.push(await startInstance(redis));
    for (let step = 0; step < STEPS; step++) {
      const p = pick(peers);
      const r = rand();
      if (r < 0.2) {
        // Join (connecting first if need be) through any live instance.
        if (p.joinedAt !== undefined) continue;
        if (!p.conn) await connect(p, pick(live()));
        trace.push(`${p.id} join via ${p.inst}`);
        await join(p);
      } else if (r < 0.3) {
        if (p.joinedAt === undefined) continue;
        trace.push(`${p.id} leave`);
        p.conn!.send({ type: 'leave', room: ROOM });
        p.joinedAt = undefined;
      } else if (r < 0.45) {
        // Connection lost; half the time the client comes straight back elsewhere with its key.
        if (!p.conn) continue;
        const back = rand() < 0.5;
        trace.push(`${p.id} drop${back ? ' and rejoin' : ''}`);
        drop(p);
        if (back) {
          await connect(p, pick(live()));
          trace.push(`  via ${p.inst}`);
          await join(p);
        }
      } else if (r < 0.8) {
        if (p.joinedAt === undefined) continue;
        const to = pick(peers.filter((q) => q !== p)).id;
        p.sent++;
        p.conn!.send({ type: 'signal', room: ROOM, to, data: { c: p.serial, n: p.sent } });
      } else if (r < 0.88) {
        if (!p.conn) continue;
        p.conn.send({ type: 'publish', topic: TOPIC, data: { c: p.serial } });
      } else if (r < 0.93) {
        // Wait a little: let what is in flight land.
        await new Promise((res) => setTimeout(res, rand() * 30));
      } else if (r < 0.98) {
        // An instance stops (its peers announced as left) or one comes back.
        const down = instances.findIndex((x) => !x);
        if (down >= 0) {
          trace.push(`start instance ${down}`);
          instances[down] = await startInstance(redis);
        } else {
          const i = pick(live());
          trace.push(`close instance ${i}`);
          const inst = instances[i]!;
          instances[i] = undefined;
          for (const q of peers) if (q.conn && q.inst === i) drop(q);
          await inst.relay.close();
        }
      } else if (!redisRestarted) {
        redisRestarted = true;
        trace.push('restart redis');
        await redis.restart();
      }
    }

    // The dust settles: every live instance synced and agreeing, every view right.
    trace.push('settle');
    const want = members();
    const openConns = (): number => peers.filter((p) => p.conn).length;
    const agreement = (): string => {
      for (const i of live()) {
        const inst = instances[i]!;
        if (!inst.cluster.connected) return `instance ${i} not connected`;
        const got = inst.cluster.rooms.members(ROOM).sort();
        if (JSON.stringify(got) !== JSON.stringify(want)) return `instance ${i} has ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;
        if (inst.cluster.topics.size(TOPIC) !== openConns()) return `instance ${i} counts ${inst.cluster.topics.size(TOPIC)} subscribers, want ${openConns()}`;
      }
      for (const p of peers) {
        if (p.joinedAt === undefined) continue;
        const view = viewOf(p);
        const expected = want.filter((id) => id !== p.id);
        if (JSON.stringify(view) !== JSON.stringify(expected)) {
          const told = p.conn!.received.slice(p.joinedAt).filter((m) => m.room === ROOM && m.type !== 'signal' && m.type !== 'error');
          return `${p.id} (on ${p.inst}) sees ${JSON.stringify(view)}, want ${JSON.stringify(expected)}; told ${JSON.stringify(told.map((m) => [m.type, m.peerId ?? m.peers]))}`;
        }
      }
      return '';
    };
    let last = '';
    try {
      await waitFor(() => (last = agreement()) === '', 'the cluster to agree', 20_000, 25);
    } catch {
      throw new Error(`no agreement: ${last}`);
    }

    // A barrier: once a connection's pong is back, its earlier frames were handled (and
    // refused, if they were to be: a refusal is sent at once).
    for (const p of peers) {
      if (!p.conn) continue;
      p.conn.send({ type: 'ping' });
      await p.conn.nextOf('pong', undefined, 10_000);
    }
    // A last round: every member signals every other, and every absent id.
    const inRoom = peers.filter((p) => p.joinedAt !== undefined);
    const absent = peers.filter((p) => p.joinedAt === undefined);
    const ROUND = 3;
    const refusals = (p: Peer): number => p.conn!.received.filter((m) => m.type === 'error' && m.code === 'unknown-peer').length;
    const refusedBefore = new Map(inRoom.map((p) => [p, refusals(p)]));
    for (const p of inRoom) {
      for (const q of peers) {
        if (q === p) continue;
        for (let k = 0; k < (q.joinedAt !== undefined ? ROUND : 1); k++) {
          p.sent++;
          p.conn!.send({ type: 'signal', room: ROOM, to: q.id, data: { c: p.serial, n: p.sent, final: true } });
        }
      }
    }
    const finals = (q: Peer): number => q.conn!.received.slice(q.joinedAt!).filter((m) => m.type === 'signal' && (m.data as { final?: boolean }).final).length;
    await waitFor(
      () => inRoom.every((q) => finals(q) >= ROUND * (inRoom.length - 1)) && inRoom.every((p) => refusals(p) - refusedBefore.get(p)! >= absent.length),
      'the last round of signals',
      10_000,
    );
    for (const q of inRoom) expect(finals(q), `${q.id} final signals`).toBe(ROUND * (inRoom.length - 1));
    // Each absent id was refused to each member, and only those.
    for (const p of inRoom) expect(refusals(p) - refusedBefore.get(p)!, `${p.id} unknown-peer refusals`).toBe(absent.length);
    // A connected client out of the room receives none of the last round.
    for (const q of absent) {
      if (!q.conn) continue;
      expect(q.conn.received.filter((m) => m.type === 'signal' && (m.data as { final?: boolean }).final), `${q.id} (absent) got signals`).toEqual([]);
    }
    // Signals from one connection reach one connection once each, in order.
    for (const conn of allConns) {
      const lastBy = new Map<number, number>();
      for (const m of conn.received) {
        if (m.type !== 'signal') continue;
        const { c, n } = m.data as { c: number; n: number };
        const prev = lastBy.get(c) ?? 0;
        if (n <= prev) throw new Error(`signal ${n} from connection ${c} after ${prev} (duplicate or out of order)`);
        lastBy.set(c, n);
      }
    }
    // The topic: one publish reaches every connected client, counted across the cluster.
    const publisher = peers.find((p) => p.conn);
    if (publisher) {
      publisher.conn!.send({ type: 'publish', topic: TOPIC, data: { last: seed } });
      for (const q of peers) {
        if (!q.conn) continue;
        const m = await q.conn.next((f) => f.type === 'publish' && (f.data as { last?: number }).last === seed, 10_000);
        expect(m.clients, `${q.id}'s publish count`).toBe(openConns());
      }
    }
    // Nothing crashed or was dropped as bad data.
    for (const i of live()) {
      const bad = instances[i]!.logs.filter((l) => l.event === 'handler-error' || l.event === 'cluster-message-dropped');
      expect(bad, `instance ${i} errors`).toEqual([]);
    }
  } catch (err) {
    for (const i of live()) {
      const notable = instances[i]!.logs.filter((l) => /cluster|redis|resumed/.test(String(l.event)) && l.event !== 'cluster-joined');
      trace.push(`instance ${i} (${instances[i]!.cluster.instanceId}): ${JSON.stringify(instances[i]!.cluster.rooms.members(ROOM))} ${JSON.stringify(notable)}`);
    }
    const replay = `CLUSTER_FUZZ_SEEDS=${seed} npx vitest run test/relay/cluster-fuzz.test.ts`;
    throw new Error(`seed ${seed}: ${(err as Error).message}\nreplay: ${replay}\ntrace:\n${trace.join('\n')}`);
  } finally {
    if (process.env.CLUSTER_FUZZ_TRACE) console.log(`seed ${seed}:\n${trace.join('\n')}`);
    for (const c of allConns) c.close();
    await Promise.all(instances.map((x) => x?.relay.close()));
    await redis.stop();
  }
}

describe('relay cluster: seeded chaos', () => {
  for (const seed of seedsFromEnv()) {
    it(`seed ${seed}: the cluster agrees, every view is right, signals arrive once and in order`, () => runSeed(seed), 60_000);
  }
});
