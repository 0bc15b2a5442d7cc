/**
 * Relay cluster benchmark: what sharing rooms through Redis costs. A cluster of two
 * meshparty relay processes on one redis-server, against one relay process alone, on the
 * same work in one run; everything on 127.0.0.1. In the cluster every room's 8 clients
 * are split 4 / 4 over the two instances, so every join is announced across instances
 * and half of every peer's signals cross through Redis: the worst placement (a load
 * balancer that keeps a room's clients on one instance does better).
 *
 * 1. Join storm: ROOMS rooms of 8 peers, every client joins at once; time until every
 *    peer knows the 7 others.
 * 2. Signal latency: one signal at a time from a peer to a room-mate, who sends one back
 *    at once; the round trip, p50 and p99 over SAMPLES (cluster: the two peers are on
 *    different instances, so both legs cross Redis).
 * 3. Steady load: every peer sends SIGNALS ICE candidates round-robin to its room-mates,
 *    in rounds; signals delivered to their recipient per second.
 *
 * Both systems are up at once and their phases alternate (samples of 2, rounds of 3), so
 * the shared machine's load hits both alike. The cluster is 3 processes on 2 cores: its
 * relays share the cores with Redis, not more CPU than the single relay gets.
 * Repeated REPEATS times, who goes first alternating; each figure is the median.
 *
 * Env: BENCH_CLUSTER_ROOMS (default 50), BENCH_CLUSTER_SIGNALS (per peer, default 40),
 * BENCH_CLUSTER_SAMPLES (default 200), BENCH_CLUSTER_REPEATS (default 3).
 */
import { resolve } from 'node:path';
import { report, type BenchRow } from './harness.js';
import { relayOptionsForLoad } from './support/relay-load-options.js';
import { startMeshpartyRelay, type ServerProcess } from './support/server-process.js';
import { closeClients, openClients, until, type LoadClient } from './support/ws-clients.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';

const root = resolve(import.meta.dirname, '../..');
const ROOMS = Number(process.env.BENCH_CLUSTER_ROOMS ?? 50);
const PEERS_PER_ROOM = 8;
const SIGNALS_PER_PEER = Number(process.env.BENCH_CLUSTER_SIGNALS ?? 40);
const SIGNALS_PER_ROUND = 4;
const SAMPLES = Number(process.env.BENCH_CLUSTER_SAMPLES ?? 200);
const REPEATS = Number(process.env.BENCH_CLUSTER_REPEATS ?? 3);
const CONNECTIONS = ROOMS * PEERS_PER_ROOM;
const PHASE_TIMEOUT_MS = 40_000;

/** A typical trickled ICE candidate, the most frequent signal in a real session. */
const CANDIDATE = { type: 'candidate', candidate: { candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.17 51234 typ srflx raddr 0.0.0.0 rport 0 generation 0', sdpMid: '0' } };

const RELAY_OPTIONS = relayOptionsForLoad(CONNECTIONS);

interface Peer {
  client: LoadClient;
  room: string;
  id: string;
  known: Set<string>;
  /** Candidates received (steady load). */
  delivered: number;
  /** Called for a `signal` carrying `{ ping }` or `{ pong }` (latency). */
  onPing?: (from: string, data: { ping?: number; pong?: number }) => void;
}

/** One system under test, set up: its servers and its clients in their rooms. */
interface Load {
  name: string;
  servers: ServerProcess[];
  clients: LoadClient[];
  rooms: Peer[][];
}

/** Connect every client; peer i of each room goes to instance i mod (number of instances). */
async function setUp(name: string, servers: ServerProcess[]): Promise<Load> {
  const perServer = await Promise.all(servers.map((s) => openClients(`ws://127.0.0.1:${s.port}`, CONNECTIONS / servers.length)));
  const next = servers.map(() => 0);
  const rooms: Peer[][] = [];
  for (let r = 0; r < ROOMS; r++) {
    rooms.push(
      Array.from({ length: PEERS_PER_ROOM }, (_, i) => {
        const s = i % servers.length;
        return { client: perServer[s]![next[s]!++]!, room: `bench-room-${r}`, id: '', known: new Set<string>(), delivered: 0 };
      }),
    );
  }
  const load: Load = { name, servers, clients: perServer.flat(), rooms };
  for (const p of rooms.flat()) p.client.onFrame = frameHandler(load, p);
  return load;
}

function frameHandler(load: Load, peer: Peer): (text: string) => void {
  return (text) => {
    const m = JSON.parse(text) as { type: string; peerId?: string; peers?: string[]; from?: string; data?: { ping?: number; pong?: number }; code?: string };
    if (m.type === 'joined') {
      peer.id = m.peerId!;
      for (const p of m.peers ?? []) peer.known.add(p);
    } else if (m.type === 'peer-joined') peer.known.add(m.peerId!);
    else if (m.type === 'peer-left') peer.known.delete(m.peerId!);
    else if (m.type === 'signal') {
      if (m.data && ('ping' in m.data || 'pong' in m.data)) peer.onPing?.(m.from!, m.data);
      else peer.delivered++;
    } else if (m.type === 'error') throw new Error(`${load.name}: relay refused: ${text}`);
  };
}

const signal = (from: Peer, to: string, data: object): void => from.client.send({ type: 'signal', room: from.room, to, data });

/** Everyone joins at once; ms until every peer knows its 7 room-mates. */
async function joinStorm(load: Load): Promise<number> {
  const t = performance.now();
  for (const p of load.rooms.flat()) p.client.send({ type: 'join', v: 1, room: p.room });
  await until(() => load.rooms.every((r) => r.every((p) => p.id !== '' && p.known.size === PEERS_PER_ROOM - 1)), `${load.name}: join storm`, PHASE_TIMEOUT_MS);
  return performance.now() - t;
}

/** One round trip between the first two peers of room 0 (different instances in the cluster). */
function roundTrip(load: Load, k: number): Promise<number> {
  const [a, b] = load.rooms[0] as [Peer, Peer];
  b.onPing = (from, data) => data.ping !== undefined && signal(b, from, { pong: data.ping });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${load.name}: no pong ${k} in 5 s`)), 5000);
    const t = performance.now();
    a.onPing = (_from, data) => {
      if (data.pong !== k) return;
      clearTimeout(timer);
      done(performance.now() - t);
    };
    signal(a, b.id, { ping: k });
  });
}

/** Every peer sends SIGNALS_PER_ROUND candidates round-robin to its room-mates; ms until all arrived. */
async function steadyRound(load: Load, round: number): Promise<number> {
  const peers = load.rooms.flat();
  const before = peers.reduce((s, p) => s + p.delivered, 0);
  const expected = peers.length * SIGNALS_PER_ROUND;
  const t = performance.now();
  for (const room of load.rooms) {
    for (let i = 0; i < room.length; i++) {
      for (let k = 0; k < SIGNALS_PER_ROUND; k++) signal(room[i]!, room[(i + 1 + ((round * SIGNALS_PER_ROUND + k) % (room.length - 1))) % room.length]!.id, CANDIDATE);
    }
  }
  await until(() => peers.reduce((s, p) => s + p.delivered, 0) - before >= expected, `${load.name}: round ${round}`, PHASE_TIMEOUT_MS, 1);
  return performance.now() - t;
}

interface Figures {
  stormMs: number;
  rttP50: number;
  rttP99: number;
  signalsPerSecond: number;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** One repeat: both systems set up at once, each phase on one then the other. */
async function measure(order: ['one' | 'cluster', 'one' | 'cluster'], redis: TestRedis): Promise<Record<'one' | 'cluster', Figures>> {
  const servers: ServerProcess[] = [];
  const loads: Load[] = [];
  try {
    for (const which of order) {
      const started = which === 'one' ? [await startMeshpartyRelay(root, RELAY_OPTIONS)] : [await startMeshpartyRelay(root, RELAY_OPTIONS, [], redis.url), await startMeshpartyRelay(root, RELAY_OPTIONS, [], redis.url)];
      servers.push(...started);
      loads.push(await setUp(which, started));
    }
    const storm = [];
    for (const l of loads) storm.push(await joinStorm(l));
    const rtts: number[][] = loads.map(() => []);
    for (let k = 0; k < SAMPLES; k++) for (const [i, l] of loads.entries()) rtts[i]!.push(await roundTrip(l, k));
    const ms = loads.map(() => 0);
    const rounds = Math.ceil(SIGNALS_PER_PEER / SIGNALS_PER_ROUND);
    for (let r = 0; r < rounds; r++) for (const [i, l] of loads.entries()) ms[i]! += await steadyRound(l, r);
    const signals = CONNECTIONS * rounds * SIGNALS_PER_ROUND;
    const out = {} as Record<'one' | 'cluster', Figures>;
    for (const [i, which] of order.entries()) {
      out[which] = { stormMs: storm[i]!, rttP50: percentile(rtts[i]!, 50), rttP99: percentile(rtts[i]!, 99), signalsPerSecond: signals / (ms[i]! / 1000) };
    }
    return out;
  } finally {
    for (const l of loads) closeClients(l.clients);
    await Promise.all(servers.map((s) => s.stop()));
  }
}

// Hard stop far beyond what the work needs (~1 minute on an idle 2-core machine).
const watchdog = setTimeout(() => {
  console.error('relay cluster bench: over its 5 minute hard limit, giving up');
  process.exit(1);
}, 300_000);
watchdog.unref();

const runs: Record<'one' | 'cluster', Figures[]> = { one: [], cluster: [] };
for (let i = 0; i < REPEATS; i++) {
  // A fresh, empty Redis for each repeat: no cluster state carried over.
  const redis = await startRedis();
  try {
    const f = await measure(i % 2 === 0 ? ['cluster', 'one'] : ['one', 'cluster'], redis);
    for (const which of ['one', 'cluster'] as const) {
      runs[which].push(f[which]);
      console.log(`run ${i + 1}/${REPEATS} ${which}: ${JSON.stringify(f[which], (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}`);
    }
  } finally {
    await redis.stop();
  }
}
const median = (which: 'one' | 'cluster', k: keyof Figures): number => percentile(runs[which].map((f) => f[k]), 50);

const row = (c: string, metric: string, unit: string, better: 'higher' | 'lower', k: keyof Figures, note?: string): BenchRow => ({
  bench: 'relay-cluster',
  case: c,
  metric,
  unit,
  meshparty: median('cluster', k),
  baseline: median('one', k),
  baselineName: 'one relay instance, no Redis',
  better,
  note: [`two instances on one redis-server, every room split 4/4 over them; median of ${REPEATS} runs`, note].filter(Boolean).join('; '),
});
const storm = `join storm, ${ROOMS} rooms x ${PEERS_PER_ROOM} peers (${CONNECTIONS} connections)`;
report([
  row(storm, 'time until every peer knows its room', 'ms', 'lower', 'stormMs'),
  row('one signal there and back between two room-mates (cluster: on different instances)', 'round trip p50', 'ms', 'lower', 'rttP50', `${SAMPLES} samples`),
  row('one signal there and back between two room-mates (cluster: on different instances)', 'round trip p99', 'ms', 'lower', 'rttP99', `${SAMPLES} samples`),
  row(`steady load, ${SIGNALS_PER_PEER} ICE candidates per peer to its room-mates (${CONNECTIONS * SIGNALS_PER_PEER} signals)`, 'signals delivered to their recipient per second', 'signals/s', 'higher', 'signalsPerSecond', 'half of them cross instances'),
]);
