/**
 * Relay benchmark: meshparty's relay against y-webrtc's own `bin/server.js`, in one run,
 * on the same work. Each server runs in its own process (memory is read from /proc for
 * both); the load-generating clients run here, and parse every frame they get, as real
 * clients must. Both servers are up at once; each phase runs on one, then the other,
 * and the steady load alternates round by round, so the machine's load (it is shared)
 * hits both alike.
 *
 * 1. Join storm: ROOMS rooms of 8 peers, every client joins at once.
 *    meshparty: `join` (answered with `joined`, and `peer-joined` to the others).
 *    y-webrtc: `subscribe` then `publish` an announce, exactly as y-webrtc clients do;
 *    every subscriber of the topic, the sender included, receives it.
 *    Then, as a second step, every pair that met exchanges one offer and one answer
 *    (the least a WebRTC connection needs; real sessions add ICE candidates).
 *    meshparty: `signal` with `to`; y-webrtc: `publish` to the topic with `to` inside,
 *    delivered to every subscriber. Figures: time for each step, and frames the relay
 *    sent per join (frames received by all clients / joins) for each step.
 * 2. Steady signal load: each peer sends SIGNALS signals (ICE candidates) round-robin to
 *    the other peers of its room, in rounds; a round ends when every frame it caused has
 *    arrived. Figures (over the sum of round times): frames clients received per
 *    second, and signals delivered to their intended recipient per second.
 * 3. Memory per connection: RSS after the storm minus RSS before any client connected,
 *    divided by the connections; read from /proc for both servers, each time after a
 *    full GC triggered from outside (see support/gc-on-signal.cjs).
 *
 * All of it is repeated REPEATS times (who goes first alternates); each figure is the median.
 * On a busy machine it stops repeating once another pair of runs would take it past
 * ~2 minutes, and reports the medians of the runs it has (the note says how many).
 *
 * Env: BENCH_RELAY_ROOMS (default 100), BENCH_RELAY_SIGNALS (per peer, default 80),
 * BENCH_RELAY_REPEATS (default 3).
 */
import { resolve } from 'node:path';
import { report, type BenchRow } from './harness.js';
import { collectedRssBytes, GC_ON_SIGNAL_ARGS } from './support/process-memory.js';
import { relayOptionsForLoad } from './support/relay-load-options.js';
import { startMeshpartyRelay, type ServerProcess, startYWebrtcServer } from './support/server-process.js';
import { closeClients, openClients, resetCounts, totalFrames, until, type LoadClient } from './support/ws-clients.js';

const root = resolve(import.meta.dirname, '../..');
const ROOMS = Number(process.env.BENCH_RELAY_ROOMS ?? 100);
const PEERS_PER_ROOM = 8;
const SIGNALS_PER_PEER = Number(process.env.BENCH_RELAY_SIGNALS ?? 80);
const REPEATS = Number(process.env.BENCH_RELAY_REPEATS ?? 3);
const SIGNALS_PER_ROUND = 4;
const CONNECTIONS = ROOMS * PEERS_PER_ROOM;
const PHASE_TIMEOUT_MS = 40_000;

/** A typical trickled ICE candidate, the most frequent signal in a real session. */
const CANDIDATE = {
  type: 'candidate',
  candidate: {
    candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.17 51234 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag q8Zk network-cost 999',
    sdpMLineIndex: 0,
    sdpMid: '0',
  },
};
/** A data-channel-only session description is a few hundred bytes; this stands in for one. */
const SDP = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n' +
  'a=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n' +
  'a=ice-ufrag:q8Zk\r\na=ice-pwd:Yf3uKq1bq0v0dA7xLx6m3E2p\r\na=ice-options:trickle\r\n' +
  'a=fingerprint:sha-256 5B:1A:9C:77:0E:2F:64:D1:83:3A:AF:11:C2:49:E8:5D:60:7B:92:0C:4E:D3:21:F6:8A:3B:55:C9:17:E0:AD:42\r\n' +
  'a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n';

/** One peer of the load: which room it is in and what it has learnt. */
interface LoadPeer {
  client: LoadClient;
  room: string;
  /** Its id: assigned by the relay (meshparty) or chosen by the client (y-webrtc). */
  id: string;
  /** Ids of room members it has heard of. */
  known: Set<string>;
  /** Ids it is the one to send an offer to (it heard of them joining after it). */
  offerTo: Set<string>;
  /** Ids it has exchanged an offer and answer with. */
  connected: Set<string>;
  /** Signals it received that were addressed to it (steady phase). */
  delivered: number;
}

/** How one relay is driven: the two protocols differ only here. */
interface Dialect {
  name: string;
  start(): Promise<ServerProcess>;
  /** Send what joins `peer` to its room. */
  join(peer: LoadPeer): void;
  /** The frame handler for the storm (join, then offer/answer). */
  stormHandler(peer: LoadPeer): (text: string) => void;
  /** True once every peer has learnt of every other peer of its room. */
  discovered(rooms: LoadPeer[][]): boolean;
  /** Send one signal; `data` is an SDP or candidate object. */
  signal(from: LoadPeer, to: string, data: object): void;
  /** The frame handler for the steady phase. */
  steadyHandler(peer: LoadPeer): (text: string) => void;
  /** Frames the relay sends out for one signal in a room of `roomSize`. */
  framesPerSignal(roomSize: number): number;
  /** Frames the server says it sent, when it can say (cross-checks the clients' count). */
  framesSentByServer?(server: ServerProcess): Promise<number>;
}

/** Answer an offer, or complete a handshake on an answer (shared by both dialects). */
function onHandshakeSignal(d: Dialect, peer: LoadPeer, from: string, data: { type?: string }): void {
  if (data.type === 'offer') {
    // Both sides may have offered (y-webrtc: both heard the other's announce). Like
    // y-webrtc's glare token, exactly one side wins: here the higher id answers.
    if (peer.offerTo.has(from) && peer.id < from) return;
    d.signal(peer, from, { type: 'answer', sdp: SDP });
    peer.connected.add(from);
  } else if (data.type === 'answer') peer.connected.add(from);
}

const meshparty: Dialect = {
  name: 'meshparty',
  start: () => startMeshpartyRelay(root, relayOptionsForLoad(CONNECTIONS), GC_ON_SIGNAL_ARGS),
  join: (peer) => peer.client.send({ type: 'join', v: 1, room: peer.room }),
  stormHandler: (peer) => (text) => {
    const m = JSON.parse(text) as { type: string; peerId?: string; peers?: string[]; from?: string; data?: object; code?: string };
    if (m.type === 'joined') {
      peer.id = m.peerId!;
      for (const p of m.peers ?? []) peer.known.add(p);
    } else if (m.type === 'peer-joined') {
      peer.known.add(m.peerId!);
      peer.offerTo.add(m.peerId!);
    } else if (m.type === 'signal') onHandshakeSignal(meshparty, peer, m.from!, m.data!);
    else if (m.type === 'error') throw new Error(`meshparty relay refused: ${text}`);
  },
  discovered: (rooms) => rooms.every((r) => r.every((p) => p.id !== '' && p.known.size === r.length - 1)),
  signal: (from, to, data) => from.client.send({ type: 'signal', room: from.room, to, data }),
  steadyHandler: (peer) => (text) => {
    const m = JSON.parse(text) as { type: string };
    if (m.type === 'signal') peer.delivered++;
  },
  framesPerSignal: () => 1,
  async framesSentByServer(server) {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    return ((await res.json()) as { messagesOut: number }).messagesOut;
  },
};

const yWebrtc: Dialect = {
  name: 'y-webrtc bin/server.js',
  async start() {
    return startYWebrtcServer(root, GC_ON_SIGNAL_ARGS);
  },
  join(peer) {
    // Exactly what y-webrtc's SignalingConn sends on connect.
    peer.client.send({ type: 'subscribe', topics: [peer.room] });
    peer.client.send({ type: 'publish', topic: peer.room, data: { type: 'announce', from: peer.id } });
  },
  stormHandler: (peer) => (text) => {
    const m = JSON.parse(text) as { type: string; data?: { type?: string; from?: string; to?: string; signal?: object } };
    const data = m.data;
    if (m.type !== 'publish' || !data || data.from === peer.id) return;
    if (data.type === 'announce') {
      // The hearer of an announce is the one who offers, as in y-webrtc.
      peer.known.add(data.from!);
      peer.offerTo.add(data.from!);
    } else if (data.type === 'signal' && data.to === peer.id) onHandshakeSignal(yWebrtc, peer, data.from!, data.signal!);
  },
  // A y-webrtc pair meets when either one hears the other's announce (the hearer then
  // offers). One of them always does: the server handles each client's subscribe
  // before its publish, so whoever subscribed first hears the other's announce.
  discovered: (rooms) =>
    rooms.every((r) => r.every((a) => r.every((b) => a === b || a.known.has(b.id) || b.known.has(a.id)))),
  signal: (from, to, data) =>
    from.client.send({ type: 'publish', topic: from.room, data: { to, from: from.id, type: 'signal', token: 0.5, signal: data } }),
  steadyHandler: (peer) => (text) => {
    const m = JSON.parse(text) as { data?: { to?: string } };
    if (m.data?.to === peer.id) peer.delivered++;
  },
  framesPerSignal: (roomSize) => roomSize,
};

interface Figures {
  discoveryMs: number;
  framesPerJoin: number;
  handshakeMs: number;
  handshakeFramesPerJoin: number;
  bytesPerConnection: number;
  steadyMs: number;
  framesPerSecond: number;
  signalsPerSecond: number;
}

/** One server under load: its process, its clients and what they learnt. */
interface Load {
  d: Dialect;
  server: ServerProcess;
  clients: LoadClient[];
  rooms: LoadPeer[][];
  peers: LoadPeer[];
  idleRss: number;
  /** Frames the clients received over every phase (cross-checked with the server). */
  framesCounted: number;
}

/** Start `d`'s server, read its idle memory, connect every client. */
async function setUp(d: Dialect): Promise<Load> {
  const server = await d.start();
  try {
    const idleRss = await collectedRssBytes(server.pid);
    const clients = await openClients(`ws://127.0.0.1:${server.port}`, CONNECTIONS);
    const rooms: LoadPeer[][] = [];
    for (let r = 0; r < ROOMS; r++) {
      rooms.push(
        clients.slice(r * PEERS_PER_ROOM, (r + 1) * PEERS_PER_ROOM).map((client) => ({
          client,
          room: `bench-room-${r}`,
          id: d === yWebrtc ? `peer-${client.index}` : '',
          known: new Set<string>(),
          offerTo: new Set<string>(),
          connected: new Set<string>(),
          delivered: 0,
        })),
      );
    }
    return { d, server, clients, rooms, peers: rooms.flat(), idleRss, framesCounted: 0 };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

async function tearDown(load: Load | undefined): Promise<void> {
  if (!load) return;
  closeClients(load.clients);
  await load.server.stop();
}

/** The join storm and the offer/answer step; then the server's memory. */
async function runStorm(load: Load): Promise<Pick<Figures, 'discoveryMs' | 'framesPerJoin' | 'handshakeMs' | 'handshakeFramesPerJoin' | 'bytesPerConnection'>> {
  const { d, clients, rooms, peers } = load;
  for (const p of peers) p.client.onFrame = d.stormHandler(p);

  // 1a. everyone joins at once
  resetCounts(clients);
  const t0 = performance.now();
  for (const p of peers) d.join(p);
  await until(() => d.discovered(rooms), `${d.name}: join storm`, PHASE_TIMEOUT_MS);
  const discoveryMs = performance.now() - t0;
  // Frames still in flight when discovery completed belong to this step too.
  await settle(() => totalFrames(clients));
  const framesPerJoin = totalFrames(clients) / peers.length;
  load.framesCounted += totalFrames(clients);

  // 1b. every pair that met exchanges an offer and an answer
  resetCounts(clients);
  const t1 = performance.now();
  for (const p of peers) for (const to of p.offerTo) d.signal(p, to, { type: 'offer', sdp: SDP });
  await until(() => peers.every((p) => p.connected.size === PEERS_PER_ROOM - 1), `${d.name}: handshakes`, PHASE_TIMEOUT_MS);
  const handshakeMs = performance.now() - t1;
  await settle(() => totalFrames(clients));
  const handshakeFramesPerJoin = totalFrames(clients) / peers.length;
  load.framesCounted += totalFrames(clients);

  const joinedRss = await collectedRssBytes(load.server.pid);
  return { discoveryMs, framesPerJoin, handshakeMs, handshakeFramesPerJoin, bytesPerConnection: (joinedRss - load.idleRss) / CONNECTIONS };
}

/**
 * One round of the steady load: every peer sends SIGNALS_PER_ROUND candidates; returns
 * the ms until the relay delivered all of them and every fan-out frame they caused.
 */
async function steadyRound(load: Load, round: number): Promise<number> {
  const { d, clients, rooms, peers } = load;
  if (round === 0) for (const p of peers) p.client.onFrame = d.steadyHandler(p);
  resetCounts(clients);
  const deliveredBefore = peers.reduce((s, p) => s + p.delivered, 0);
  const signals = peers.length * SIGNALS_PER_ROUND;
  const t = performance.now();
  for (const room of rooms) {
    for (let i = 0; i < room.length; i++) {
      for (let k = 0; k < SIGNALS_PER_ROUND; k++) {
        const to = room[(i + 1 + ((round * SIGNALS_PER_ROUND + k) % (room.length - 1))) % room.length]!;
        d.signal(room[i]!, to.id, CANDIDATE);
      }
    }
  }
  const expectedFrames = signals * d.framesPerSignal(PEERS_PER_ROOM);
  await until(() => totalFrames(clients) >= expectedFrames, `${d.name}: round ${round}`, PHASE_TIMEOUT_MS, 1);
  const ms = performance.now() - t;
  const delivered = peers.reduce((s, p) => s + p.delivered, 0) - deliveredBefore;
  if (delivered !== signals) throw new Error(`${d.name}: round ${round}: ${delivered} of ${signals} signals reached their recipient`);
  load.framesCounted += totalFrames(clients);
  return ms;
}

/**
 * One repeat: both servers up at once (each in its own process, so memory stays
 * separate), each phase run on one then the other, and the steady load interleaved
 * round by round, so a change in the machine's load hits both alike.
 */
async function measurePair(first: Dialect, second: Dialect): Promise<Map<Dialect, Figures>> {
  let a: Load | undefined;
  let b: Load | undefined;
  try {
    a = await setUp(first);
    b = await setUp(second);
    const stormA = await runStorm(a);
    const stormB = await runStorm(b);
    const rounds = Math.ceil(SIGNALS_PER_PEER / SIGNALS_PER_ROUND);
    let msA = 0;
    let msB = 0;
    for (let r = 0; r < rounds; r++) {
      msA += await steadyRound(a, r);
      msB += await steadyRound(b, r);
    }
    const signals = CONNECTIONS * rounds * SIGNALS_PER_ROUND;
    const figures = new Map<Dialect, Figures>();
    for (const [load, st, ms] of [[a, stormA, msA], [b, stormB, msB]] as const) {
      const frames = signals * load.d.framesPerSignal(PEERS_PER_ROOM);
      figures.set(load.d, { ...st, steadyMs: ms, framesPerSecond: frames / (ms / 1000), signalsPerSecond: signals / (ms / 1000) });
      if (load.d.framesSentByServer) {
        const sentByServer = await load.d.framesSentByServer(load.server);
        const verdict = sentByServer === load.framesCounted ? 'agree' : 'DISAGREE';
        console.log(`${load.d.name}: server's messagesOut ${sentByServer}, frames the clients counted ${load.framesCounted} (${verdict})`);
      }
    }
    return figures;
  } finally {
    await tearDown(a);
    await tearDown(b);
  }
}

/** Wait until `count()` has not changed for 200 ms (bounded at 5 s). */
async function settle(count: () => number): Promise<void> {
  let last = -1;
  const deadline = Date.now() + 5000;
  while (count() !== last && Date.now() < deadline) {
    last = count();
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Hard stop far beyond what the work needs (~35 s on an idle 2-core machine).
const watchdog = setTimeout(() => {
  console.error('relay bench: over its 5 minute hard limit, giving up');
  process.exit(1);
}, 300_000);
watchdog.unref();
const BUDGET_MS = 120_000;

// Both servers, alternating, in one run on the same work; each figure is the median of
// the runs made. A pair of runs is started only if the last pair's duration still fits
// in the budget, so a busy machine gives fewer repeats instead of no figures.
const runs: Record<'base' | 'ours', Figures[]> = { base: [], ours: [] };
const benchStart = performance.now();
let lastPairMs = 0;
for (let i = 0; i < REPEATS; i++) {
  if (i > 0 && performance.now() - benchStart + lastPairMs > BUDGET_MS) {
    console.log(`relay bench: stopping after ${i} of ${REPEATS} repeats to stay within ${BUDGET_MS / 1000} s`);
    break;
  }
  const pairStart = performance.now();
  // Who goes first alternates between repeats.
  const order = i % 2 === 0 ? ([yWebrtc, meshparty] as const) : ([meshparty, yWebrtc] as const);
  const figures = await measurePair(...order);
  for (const [key, d] of [['base', yWebrtc], ['ours', meshparty]] as const) {
    const f = figures.get(d)!;
    runs[key].push(f);
    console.log(`run ${i + 1}/${REPEATS} ${d.name}: ${JSON.stringify(f, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v))}`);
  }
  lastPairMs = performance.now() - pairStart;
}
const median = (xs: Figures[]): Figures => {
  const pick = (k: keyof Figures): number => {
    const v = xs.map((x) => x[k]).sort((p, q) => p - q);
    const mid = Math.floor(v.length / 2);
    return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  };
  return Object.fromEntries((Object.keys(xs[0]!) as (keyof Figures)[]).map((k) => [k, pick(k)])) as unknown as Figures;
};
const spread = (xs: Figures[], k: keyof Figures): string => {
  const v = xs.map((x) => x[k]);
  return `${Math.round(Math.min(...v))}-${Math.round(Math.max(...v))}`;
};
const base = median(runs.base);
const ours = median(runs.ours);

const storm = `join storm, ${ROOMS} rooms x ${PEERS_PER_ROOM} peers (${CONNECTIONS} connections)`;
const handshake = `${storm}, then one offer + answer per pair`;
const steady = `steady load, ${SIGNALS_PER_PEER} ICE candidates per peer to its room-mates (${CONNECTIONS * SIGNALS_PER_PEER} signals)`;
const row = (c: string, metric: string, unit: string, better: 'higher' | 'lower', m: number, b: number, note?: string): BenchRow => ({
  bench: 'relay',
  case: c,
  metric,
  unit,
  meshparty: m,
  baseline: b,
  baselineName: yWebrtc.name,
  better,
  note: [`median of ${runs.ours.length} runs each`, note].filter(Boolean).join('; '),
});
report([
  row(storm, 'time until every peer knows its room', 'ms', 'lower', ours.discoveryMs, base.discoveryMs),
  row(storm, 'frames sent by the relay per join', 'frames', 'lower', ours.framesPerJoin, base.framesPerJoin, 'join/announce only'),
  row(handshake, 'time until every pair exchanged offer+answer', 'ms', 'lower', ours.handshakeMs, base.handshakeMs),
  row(handshake, 'frames sent by the relay per join', 'frames', 'lower', ours.handshakeFramesPerJoin, base.handshakeFramesPerJoin, 'offers and answers only; y-webrtc fans each out to the room'),
  row(storm, 'memory per connection (server RSS delta)', 'bytes', 'lower', ours.bytesPerConnection, base.bytesPerConnection, `VmRSS after a full GC, after storm minus idle; runs: ours ${spread(runs.ours, 'bytesPerConnection')}, y-webrtc ${spread(runs.base, 'bytesPerConnection')}`),
  row(steady, 'frames delivered to clients per second', 'frames/s', 'higher', ours.framesPerSecond, base.framesPerSecond, 'y-webrtc fans every signal out to the whole room'),
  row(steady, 'signals delivered to their recipient per second', 'signals/s', 'higher', ours.signalsPerSecond, base.signalsPerSecond),
]);
