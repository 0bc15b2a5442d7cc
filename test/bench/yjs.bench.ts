/**
 * Yjs benchmark: meshparty's provider against y-webrtc 10.3.0 on the same work, in one
 * run. Every peer of both systems is its own Node process (y-webrtc cannot hold two
 * providers of one room in a process), each system with its own relay (meshparty's, and
 * y-webrtc's bin/server.js), all on 127.0.0.1.
 *
 * Each system runs as its users run it in Node: meshparty on node-datachannel (through
 * `adaptNodeDatachannel`), y-webrtc on @roamhq/wrtc (its documented `peerOpts: { wrtc }`).
 * At N = 8 both also run on each engine in turn, so the same-engine ratios are reported.
 *
 *  - latency: one peer sets a key; time until every other peer has it (p50, p99), N = 4, 8, 16;
 *    both systems run at once and samples alternate, so both see the same machine load;
 *    and the floors under both: the same fan-out of one message over plain data channels, and
 *    of the edit's Yjs update applied by each receiver (no sync protocol, no framing);
 *  - latency while co-editing: the same, at N = 8, 16, while 3 other peers each type into a shared
 *    Y.Text at ~10 characters a second (seeded, the same keystrokes in both systems);
 *  - late joiner: one peer holds a 1 MB / 16 MB document, a new peer joins; time until it has it all;
 *  - trace: one of 4 peers replays the real editing trace (seph-blog1 by Joseph Gentle,
 *    editing-traces, CC BY 4.0); bytes and data-channel frames sent by all peers.
 *
 * Run: `npm run bench -- yjs` (or `node --import tsx test/bench/yjs.bench.ts`). Knobs:
 *  - BENCH_QUICK=1: N = 4 only; BENCH_YJS=latency,typing,late,trace picks parts;
 *  - BENCH_YJS_N=8 and BENCH_YJS_TYPING_N=8: sizes; BENCH_YJS_SAME_ENGINE_N=8 (0: none): same-engine sizes;
 *  - BENCH_YJS_SAMPLES=60: edits per system per size (default 200); BENCH_YJS_ALONE=meshparty@node-datachannel: one system alone;
 *  - BENCH_YJS_STAGES=1: print where each system's latency goes (the sender's send() calls,
 *    each peer's frame arrival, apply and handling time), the CPU the peers use, idle and per
 *    edit, and the three slowest samples peer by peer.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { report, type BenchRow } from './harness.js';
import { startMeshpartyRelay, type ServerProcess, startYWebrtcServer } from './support/server-process.js';
import { startPeerProcess, type PeerProcess } from '../yjs/support/peer-process.js';
import { rawFanout } from './support/raw-fanout.js';
import { TRACE_PATH, loadTrace } from '../yjs/support/trace.js';

type Mode = 'meshparty' | 'y-webrtc';
type Engine = 'wrtc' | 'node-datachannel';
/** One system under test: a Yjs sync layer on a Node WebRTC engine. */
interface System {
  mode: Mode;
  webrtc: Engine;
}
const label = (s: System) => `${s.mode} on ${s.webrtc === 'wrtc' ? '@roamhq/wrtc' : 'node-datachannel'}`;
/**
 * Each system as its users run it in Node: meshparty on node-datachannel (through
 * `adaptNodeDatachannel`), y-webrtc on wrtc (its documented `peerOpts: { wrtc }`).
 * The latency cases also run both on the other engine, so the same-engine ratios are
 * reported too (`BENCH_YJS_SAME_ENGINE_N=0` skips those).
 */
const OURS: System = { mode: 'meshparty', webrtc: 'node-datachannel' };
const THEIRS: System = { mode: 'y-webrtc', webrtc: 'wrtc' };
/**
 * Same-engine comparisons, each its own run (all four systems at once would be 4N
 * processes on 2 cores): at these sizes only (`BENCH_YJS_SAME_ENGINE_N`, default 8; 0 for none).
 */
const SAME_ENGINE_SIZES = (process.env.BENCH_YJS_SAME_ENGINE_N ?? '8').split(',').map(Number).filter((n) => n > 0);
const SAME_ENGINE_PAIRS: Array<[System, System]> = [
  [{ mode: 'meshparty', webrtc: 'wrtc' }, THEIRS],
  [OURS, { mode: 'y-webrtc', webrtc: 'node-datachannel' }],
];
const root = resolve(import.meta.dirname, '../..');
const quick = !!process.env.BENCH_QUICK;
const SIZES = process.env.BENCH_YJS_N ? process.env.BENCH_YJS_N.split(',').map(Number) : quick ? [4] : [4, 8, 16];
/**
 * Edits per system per size (`BENCH_YJS_SAMPLES`). 200, so p99 is the second slowest
 * sample rather than the slowest one: with 60 it was the single worst hiccup of the
 * shared machine and swung 2-4x between runs.
 */
const SAMPLES = Number(process.env.BENCH_YJS_SAMPLES) || 200;
/** `BENCH_YJS=latency` (or late, trace) runs only those parts. */
const parts = (process.env.BENCH_YJS ?? 'latency,typing,late,trace').split(',');
/** Sizes of the co-editing latency case (`BENCH_YJS=typing`), its typists and their rate. */
const TYPING_SIZES = process.env.BENCH_YJS_TYPING_N ? process.env.BENCH_YJS_TYPING_N.split(',').map(Number) : quick ? [8] : [8, 16];
const TYPISTS = 3;
const TYPING_CPS = 10;

async function startRelay(mode: Mode): Promise<{ url: string; server: ServerProcess }> {
  if (mode === 'y-webrtc') {
    const server = await startYWebrtcServer(root);
    return { url: `ws://127.0.0.1:${server.port}`, server };
  }
  const server = await startMeshpartyRelay(root, { messagesPerSecond: 10_000, messageBurst: 10_000 });
  return { url: `ws://127.0.0.1:${server.port}`, server };
}

/** Start `n` peers in `room` (into `peers`, so the caller stops them even on failure) and wait until each sees the n-1 others. */
async function startPeers(system: System, url: string, room: string, n: number, timeoutMs: number, peers: PeerProcess[]): Promise<PeerProcess[]> {
  // One after another, for both systems alike: y-webrtc's glare handling deadlocks under
  // wrtc when two peers offer to each other at once (see test/interop).
  for (let i = 0; i < n; i++) {
    const p = startPeerProcess(`${label(system)}-${i}`, { MODE: system.mode, RELAY: url, ROOM: room, WEBRTC: system.webrtc });
    peers.push(p);
    await p.waitFor((e) => e.event === 'ready', 'ready', timeoutMs);
    await new Promise((r) => setTimeout(r, 300));
  }
  await Promise.all(peers.map((p) => p.waitFor((e) => e.event === 'peers' && e.count === n - 1, `${n - 1} peers`, timeoutMs)));
  return peers;
}

async function stopAll(peers: PeerProcess[]): Promise<void> {
  await Promise.all(peers.map((p) => p.stop()));
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Where one sample's time went, ms from the edit (BENCH_YJS_STAGES=1; the peers then time their data-channel sends). */
interface Stages {
  /** The edit's first data-channel send() began, and its last one. */
  firstSend: number;
  lastSend: number;
  /** The edit (including every send made inside it) returned. */
  editReturned: number;
  /** Time spent inside send() during the edit, and each send()'s duration in order. */
  inSend: number;
  sendDurations: number[];
  /** The last peer to apply it: wrtc handed it the frame, and the edit was in its doc. */
  lastArrival: number;
  lastSeen: number;
  /** Every peer's frame arrival and apply, ms from the edit, in arrival order. */
  arrivals: number[];
  seens: number[];
  /** Each peer's whole synchronous handling of the frame that carried the edit (ms, JS main thread). */
  handled: number[];
  /** The whole sample (edit to last peer applying it), and each peer's [frame arrival, applied], by when it applied. */
  total: number;
  peers: Array<[number, number]>;
}
const stagesOn = !!process.env.BENCH_YJS_STAGES;
const stageLog: Record<string, Stages[]> = {};

/** One key set on one peer; resolves with the time until every other peer has it (ms). */
async function markLatency(peers: PeerProcess[], from: number, k: string, timeoutMs = 20_000, stagesOf?: string): Promise<number> {
  const marks = peers.map((p) => p.events.length);
  const sent = peers[from]!.request({ cmd: 'mark', k }, 'marked', timeoutMs);
  const seen = peers.map((p, i) => (i === from ? undefined : p.waitFor((e) => e.event === 'seen' && e.k === k, `seen ${k}`, timeoutMs, marks[i])));
  // A peer timing out while `marked` is still awaited must fail this sample, not crash the bench.
  for (const s of seen) s?.catch(() => {});
  const marked = await sent;
  const at = marked.at as number;
  const arrivals = (await Promise.all(seen.filter(Boolean))).map((e) => e!);
  const last = arrivals.reduce((a, b) => ((b.at as number) > (a.at as number) ? b : a));
  if (stagesOn && stagesOf) {
    const sends = (marked.sends as Array<[number, number]> | undefined) ?? [];
    (stageLog[stagesOf] ??= []).push({
      firstSend: (sends[0]?.[0] ?? NaN) - at,
      lastSend: (sends[sends.length - 1]?.[0] ?? NaN) - at,
      editReturned: (marked.done as number) - at,
      inSend: sends.reduce((sum, [b, e]) => sum + e - b, 0),
      sendDurations: sends.map(([b, e]) => e - b),
      lastArrival: (last.arrived as number) - at,
      lastSeen: (last.at as number) - at,
      arrivals: arrivals.map((e) => (e.arrived as number) - at).sort((x, y) => x - y),
      seens: arrivals.map((e) => (e.at as number) - at).sort((x, y) => x - y),
      handled: arrivals.map((e) => (e.handled as number) ?? NaN),
      total: (last.at as number) - at,
      peers: arrivals.map((e): [number, number] => [(e.arrived as number) - at, (e.at as number) - at]).sort((x, y) => x[1] - y[1]),
    });
  }
  return (last.at as number) - at;
}

/**
 * Every system's N peers run at the same time and samples rotate between them, so all
 * see the same machine load (on a shared 2-core machine, load swings dominate latency;
 * measuring one system after the other compared different machines).
 *
 * With `typists` > 0, the last `typists` peers of each system keep typing into the
 * shared Y.Text (TYPING_CPS keystrokes a second each, typist j seeded with j in every
 * system) from before the first sample to after the last, and the marks are set by the
 * other peers in turn; a mark still counts until every other peer, typists included, has it.
 */
type LatencyResult = { p50: number; p99: number; typed?: number } | string;
async function latencyOf(systems: System[], n: number, typists = 0): Promise<LatencyResult[]> {
  const caseLabel = typists ? `N=${n} typing` : `N=${n}`;
  const senders = n - typists;
  const relays: Array<{ url: string; server: ServerProcess }> = [];
  const peers: PeerProcess[][] = systems.map(() => []);
  const samples: number[][] = systems.map(() => []);
  const failed: Array<string | undefined> = systems.map(() => undefined);
  const keystrokes: number[] = systems.map(() => 0);
  const all = systems.map((_, i) => i);
  try {
    for (const i of all) {
      const relay = await startRelay(systems[i]!.mode);
      relays.push(relay);
      try {
        await startPeers(systems[i]!, relay.url, typists ? `type-${n}` : `lat-${n}`, n, 120_000, peers[i]!);
        for (let w = 0; w < 3; w++) await markLatency(peers[i]!, w % n, `warm${w}`, 60_000); // everyone synced
      } catch (err) {
        failed[i] = `failed: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    const cpuNow = () => Promise.all(peers.map((ps) => Promise.all(ps.map((p) => p.request({ cmd: 'stats' }, 'stats').then((e) => e.cpuMs as number)))));
    if (stagesOn) {
      // What the rooms cost while nobody edits: CPU per peer per second over 3 s.
      const idleFrom = await cpuNow();
      await new Promise((r) => setTimeout(r, 3000));
      const idleTo = await cpuNow();
      for (const i of all) console.log(`idle cpu ${label(systems[i]!)} ${caseLabel}: ms per peer per second ${idleTo[i]!.map((c, j) => ((c - idleFrom[i]![j]!) / 3).toFixed(1)).join(' ')}`);
    }
    const cpuBefore = await cpuNow();
    const typing = all.filter((i) => !failed[i]).flatMap((i) => peers[i]!.slice(senders).map((p, j) => ({ i, p, j })));
    if (typists) {
      // Every system's typists start together and type for a second before the first sample.
      await Promise.all(typing.map(({ p, j }) => p.request({ cmd: 'type', seed: j + 1, cps: TYPING_CPS }, 'typing')));
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (let k = 0; k < SAMPLES; k++) {
      // Rotate which system goes first, so none always follows the same one.
      for (const i of all.map((_, r) => all[(r + k) % all.length]!)) {
        if (failed[i]) continue;
        try {
          samples[i]!.push(await markLatency(peers[i]!, k % senders, `k${k}`, undefined, `${label(systems[i]!)} ${caseLabel}`));
        } catch (err) {
          failed[i] = `failed: ${(err as Error).message.split('\n')[0]}`;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (stagesOn) {
      const cpuAfter = await cpuNow();
      for (const i of all) {
        const per = cpuAfter[i]!.map((c, j) => (c - cpuBefore[i]![j]!) / SAMPLES);
        console.log(`cpu ${label(systems[i]!)} ${caseLabel}: ms of CPU per sample, all peers ${per.reduce((a, b) => a + b, 0).toFixed(2)} (per peer ${per.map((x) => x.toFixed(2)).join(' ')})`);
      }
    }
    if (typists) {
      const typed = await Promise.all(typing.map(({ p }) => p.request({ cmd: 'stop-typing' }, 'typed').then((e) => e.chars as number)));
      typing.forEach(({ i }, t) => (keystrokes[i]! += typed[t]!));
      // Every peer must end with the same text, or the load was not really delivered.
      for (const i of all) {
        if (failed[i]) continue;
        const deadline = Date.now() + 20_000;
        while (new Set((await Promise.all(peers[i]!.map((p) => p.request({ cmd: 'hash' }, 'hash')))).map((e) => e.value)).size > 1) {
          if (Date.now() > deadline) failed[i] = 'failed: peers\' texts differ 20 s after typing stopped';
          if (failed[i]) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  } finally {
    await Promise.all(peers.map(stopAll));
    await Promise.all(relays.map((r) => r.server.stop()));
  }
  if (stagesOn) {
    for (const system of systems) {
      const log = stageLog[`${label(system)} ${caseLabel}`] ?? [];
      if (log.length === 0) continue;
      const med = (pick: (x: Stages) => number) => percentile(log.map(pick), 50).toFixed(2);
      console.log(
        `stages ${label(system)} ${caseLabel}, medians in ms from the edit: first send() ${med((x) => x.firstSend)}, last send() ${med((x) => x.lastSend)}, ` +
          `edit returned ${med((x) => x.editReturned)} (of which inside send() ${med((x) => x.inSend)}), ` +
          `last peer got the frame ${med((x) => x.lastArrival)}, applied it ${med((x) => x.lastSeen)}; ` +
          `send() durations in order: ${log[0]!.sendDurations.map((_, i) => med((x) => x.sendDurations[i] ?? NaN)).join(' ')}; ` +
          `peers got the frame (1st..last): ${log[0]!.arrivals.map((_, i) => med((x) => x.arrivals[i] ?? NaN)).join(' ')}; ` +
          `applied it: ${log[0]!.seens.map((_, i) => med((x) => x.seens[i] ?? NaN)).join(' ')}; ` +
          `a peer's whole handling of that frame: ${percentile(log.flatMap((x) => x.handled), 50).toFixed(3)} ` +
          `(first third of the samples ${percentile(log.slice(0, log.length / 3).flatMap((x) => x.handled), 50).toFixed(3)}, last third ${percentile(log.slice((2 * log.length) / 3).flatMap((x) => x.handled), 50).toFixed(3)})`,
      );
      // The tail: was the slowest peer late to get the frame (network, native threads,
      // scheduling) or late to apply it (its JS thread busy)?
      const ms = (v: number) => v.toFixed(2);
      for (const x of [...log].sort((a, b) => b.total - a.total).slice(0, 3)) {
        console.log(
          `  slow sample ${label(system)} ${caseLabel}: ${ms(x.total)} ms; sends ${ms(x.firstSend)}..${ms(x.lastSend)}, edit returned ${ms(x.editReturned)}; ` +
            `peers [got frame, applied]: ${x.peers.map(([a, b]) => `[${ms(a)}, ${ms(b)}]`).join(' ')}`,
        );
      }
    }
  }
  return all.map((i) => failed[i] ?? { p50: percentile(samples[i]!, 50), p99: percentile(samples[i]!, 99), ...(typists && { typed: keystrokes[i] }) });
}

/** Time from starting the joiner's process until it has the whole document, and from its first peer connection until then (ms). */
async function lateJoiner(system: System, bytes: number): Promise<{ total: number; transfer: number } | string> {
  const { mode, webrtc } = system;
  const { url, server } = await startRelay(mode);
  const peers: PeerProcess[] = [];
  try {
    const holder = startPeerProcess(`${mode}-holder`, { MODE: mode, RELAY: url, ROOM: 'late', WEBRTC: webrtc });
    peers.push(holder);
    await holder.waitFor((e) => e.event === 'ready', 'ready');
    await holder.request({ cmd: 'fill', bytes }, 'filled', 60_000);
    const started = Date.now();
    const joiner = startPeerProcess(`${mode}-joiner`, { MODE: mode, RELAY: url, ROOM: 'late', WEBRTC: webrtc });
    peers.push(joiner);
    const connected = joiner.waitFor((e) => e.event === 'peers' && (e.count as number) >= 1, 'a peer', 60_000).then(() => Date.now());
    connected.catch(() => {});
    await joiner.waitFor((e) => e.event === 'ready', 'ready');
    await joiner.request({ cmd: 'expect', length: bytes }, 'reached', 60_000);
    const reached = Date.now();
    const [a, b] = await Promise.all([holder.request({ cmd: 'hash' }, 'hash'), joiner.request({ cmd: 'hash' }, 'hash')]);
    if (a.value !== b.value) return 'failed: content differs';
    return { total: reached - started, transfer: reached - (await connected) };
  } catch (err) {
    return `failed: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    await stopAll(peers);
    await server.stop();
  }
}

async function traceBytes(system: System): Promise<{ bytes: number; frames: number; ms: number } | string> {
  const { url, server } = await startRelay(system.mode);
  const peers: PeerProcess[] = [];
  try {
    await startPeers(system, url, 'trace', 4, 120_000, peers);
    await markLatency(peers, 0, 'warm', 60_000);
    const before = await Promise.all(peers.map((p) => p.request({ cmd: 'stats' }, 'stats')));
    const end = loadTrace().endContent;
    const want = createHash('sha256').update(end).digest('hex');
    const started = Date.now();
    await peers[0]!.request({ cmd: 'replay', path: TRACE_PATH }, 'replayed', 600_000);
    for (const p of peers) {
      const deadline = Date.now() + 300_000;
      while ((await p.request({ cmd: 'hash' }, 'hash', 300_000)).value !== want) {
        if (Date.now() > deadline) return `failed: ${p.name} never reached endContent`;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const ms = Date.now() - started;
    const after = await Promise.all(peers.map((p) => p.request({ cmd: 'stats' }, 'stats')));
    const sum = (xs: Array<Record<string, unknown>>, k: string) => xs.reduce((n, x) => n + (x[k] as number), 0);
    return { bytes: sum(after, 'bytes') - sum(before, 'bytes'), frames: sum(after, 'frames') - sum(before, 'frames'), ms };
  } catch (err) {
    return `failed: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    await stopAll(peers);
    await server.stop();
  }
}

const num = (r: unknown, k: string) => (typeof r === 'object' && r !== null ? ((r as Record<string, number>)[k] ?? null) : null);
const why = (...rs: unknown[]) => rs.filter((r) => typeof r === 'string').join('; ') || undefined;

const rows: BenchRow[] = [];
const base = { bench: 'yjs', baselineName: 'y-webrtc 10.3.0 on @roamhq/wrtc' };
const engineNote = 'meshparty on node-datachannel (adaptNodeDatachannel), y-webrtc on @roamhq/wrtc (its documented Node setup)';
/** Run one latency comparison (ours against theirs, at once) and add its p50 and p99 rows. */
async function compareLatency(caseName: string, ours: System, theirs: System, n: number, typists = 0): Promise<void> {
  const [a, b] = await latencyOf([ours, theirs], n, typists);
  console.log(caseName, { [label(ours)]: a, [label(theirs)]: b });
  const engines = ours.webrtc === theirs.webrtc ? 'same engine' : engineNote;
  const load = typists ? `${typists} other peers typing ~${TYPING_CPS} chars/s each (seeded, same keystrokes in both)` : undefined;
  const baselineName = `y-webrtc 10.3.0 on ${label(theirs).replace('y-webrtc on ', '')}`;
  for (const p of ['p50', 'p99'] as const) {
    const note = [engines, load, why(a, b)].filter(Boolean).join('; ');
    rows.push({ ...base, baselineName, case: caseName, metric: `latency ${p}`, unit: 'ms', better: 'lower', meshparty: num(a, p), baseline: num(b, p), note });
  }
}
/** `BENCH_YJS_ALONE=meshparty@node-datachannel` (or y-webrtc@wrtc, ...): that system's latency alone, no comparison rows (for profiling). */
const alone = process.env.BENCH_YJS_ALONE?.split('@');
if (alone) {
  for (const n of SIZES) console.log(`alone N=${n}`, await latencyOf([{ mode: alone[0] as Mode, webrtc: (alone[1] ?? 'node-datachannel') as Engine }], n));
  process.exit(0);
}
/**
 * The floors under both systems, on each engine (see support/raw-fanout.ts): plain data
 * channels with no sync layer at all, and the same with the least a Yjs sync can do (the
 * edit's update sent as it is on every channel and applied by each receiver).
 */
async function floorRows(n: number): Promise<void> {
  // This harness has no mesh to retry a pair that never connects (libdatachannel leaves
  // one now and then, and wrtc has crashed a process) or a crashed process: it starts over.
  const run = async (engine: Engine, withYjs: boolean, tries = 3): Promise<Awaited<ReturnType<typeof rawFanout>> | string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await rawFanout(engine, n, SAMPLES, withYjs);
      } catch (err) {
        if (attempt === tries) return `failed ${tries} times, last: ${(err as Error).message.split('\n')[0]}`;
      }
    }
  };
  for (const withYjs of [false, true]) {
    const ndc = await run('node-datachannel', withYjs);
    const wrtc = await run('wrtc', withYjs);
    console.log(`floor${withYjs ? ' with Yjs' : ''} N=${n}`, { 'node-datachannel': ndc, '@roamhq/wrtc': wrtc });
    const what = withYjs
      ? 'no sync protocol: a Y.Map edit\'s update sent as it is on each of N-1 plain data channels and applied by each receiver, timed until the last has the key'
      : 'no sync layer: one 40-byte message on each of N-1 plain data channels';
    const note = `${what} (full mesh, one process per peer); meshparty column = node-datachannel, baseline = @roamhq/wrtc`;
    const caseName = withYjs ? `floor with Yjs: edit to all peers, N = ${n}` : `floor: message to all peers, N = ${n}`;
    for (const p of ['p50', 'p99'] as const) {
      rows.push({ ...base, baselineName: 'plain data channels on @roamhq/wrtc', case: caseName, metric: `latency ${p}`, unit: 'ms', better: 'lower', meshparty: num(ndc, p), baseline: num(wrtc, p), note: [note, why(ndc, wrtc)].filter(Boolean).join('; ') });
    }
  }
}
for (const n of parts.includes('latency') ? SIZES : []) {
  await compareLatency(`edit to all peers, N = ${n}`, OURS, THEIRS, n);
  await floorRows(n);
  if (!SAME_ENGINE_SIZES.includes(n)) continue;
  for (const [ours, theirs] of SAME_ENGINE_PAIRS) await compareLatency(`edit to all peers, N = ${n}, both on ${label(ours).replace('meshparty on ', '')}`, ours, theirs, n);
}
for (const n of parts.includes('typing') ? TYPING_SIZES : []) {
  await compareLatency(`edit to all peers while co-editing, N = ${n}`, OURS, THEIRS, n, TYPISTS);
}
for (const mb of !parts.includes('late') ? [] : quick ? [1] : [1, 16]) {
  const bytes = mb * 1024 * 1024;
  const ours = await lateJoiner(OURS, bytes);
  const theirs = await lateJoiner(THEIRS, bytes);
  console.log(`late joiner ${mb} MB`, ours, theirs);
  const note = [engineNote, typeof ours === 'string' ? `meshparty ${ours}` : '', typeof theirs === 'string' ? `y-webrtc ${theirs} (it sends each message in one data-channel frame)` : ''].filter(Boolean).join('; ') || undefined;
  for (const [metric, key] of [['time from process start to whole document', 'total'], ['time from first connection to whole document', 'transfer']] as const) {
    rows.push({ ...base, case: `late joiner, ${mb} MB document`, metric, unit: 'ms', better: 'lower', meshparty: num(ours, key), baseline: num(theirs, key), note });
  }
}
if (parts.includes('trace')) {
  const ours = await traceBytes(OURS);
  const theirs = await traceBytes(THEIRS);
  console.log('trace', ours, theirs);
  const note = [engineNote, why(ours, theirs)].filter(Boolean).join('; ');
  rows.push({ ...base, case: 'trace replay (seph-blog1, CC BY 4.0), 4 peers', metric: 'bytes sent, all peers', unit: 'bytes', better: 'lower', meshparty: num(ours, 'bytes'), baseline: num(theirs, 'bytes'), note });
  rows.push({ ...base, case: 'trace replay (seph-blog1, CC BY 4.0), 4 peers', metric: 'data-channel frames sent, all peers', unit: 'frames', better: 'lower', meshparty: num(ours, 'frames'), baseline: num(theirs, 'frames'), note });
  rows.push({ ...base, case: 'trace replay (seph-blog1, CC BY 4.0), 4 peers', metric: 'time until all peers have endContent', unit: 'ms', better: 'lower', meshparty: num(ours, 'ms'), baseline: num(theirs, 'ms'), note });
}
report(rows);
process.exit(0);
