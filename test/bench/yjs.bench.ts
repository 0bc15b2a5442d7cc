/**
 * Yjs benchmark: meshparty's provider against y-webrtc 10.3.0 on the same work, in one
 * run. Every peer of both systems is its own Node process (y-webrtc cannot hold two
 * providers of one room in a process), both over @roamhq/wrtc, each with its own relay
 * (meshparty's, and y-webrtc's bin/server.js), all on 127.0.0.1.
 *
 *  - latency: one peer sets a key; time until every other peer has it (p50, p99), N = 4, 8, 16;
 *    both systems run at once and samples alternate, so both see the same machine load;
 *  - latency while co-editing: the same, at N = 8, 16, while 3 other peers each type into a shared
 *    Y.Text at ~10 characters a second (seeded, the same keystrokes in both systems);
 *  - late joiner: one peer holds a 1 MB / 16 MB document, a new peer joins; time until it has it all;
 *  - trace: one of 4 peers replays the real editing trace (seph-blog1 by Joseph Gentle,
 *    editing-traces, CC BY 4.0); bytes and data-channel frames sent by all peers.
 *
 * Run: `npm run bench -- yjs` (or `node --import tsx test/bench/yjs.bench.ts`); BENCH_QUICK=1 for N = 4 only,
 * BENCH_YJS=latency,typing,late,trace to pick parts, BENCH_YJS_TYPING_N=8 for the co-editing sizes, BENCH_YJS_N=8 for sizes, BENCH_YJS_SAMPLES=200 for more edits, BENCH_YJS_STAGES=1 to print
 * where each system's latency goes (sender's send() calls, the last peer's frame arrival and apply).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { report, type BenchRow } from './harness.js';
import { startMeshpartyRelay, type ServerProcess, startYWebrtcServer } from './support/server-process.js';
import { startPeerProcess, type PeerProcess } from '../yjs/support/peer-process.js';
import { TRACE_PATH, loadTrace } from '../yjs/support/trace.js';

type Mode = 'meshparty' | 'y-webrtc';
const root = resolve(import.meta.dirname, '../..');
const quick = !!process.env.BENCH_QUICK;
const SIZES = process.env.BENCH_YJS_N ? process.env.BENCH_YJS_N.split(',').map(Number) : quick ? [4] : [4, 8, 16];
/** Edits per system per size (`BENCH_YJS_SAMPLES` for more where N = 16 is noisy). */
const SAMPLES = Number(process.env.BENCH_YJS_SAMPLES) || 60;
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
async function startPeers(mode: Mode, url: string, room: string, n: number, timeoutMs: number, peers: PeerProcess[]): Promise<PeerProcess[]> {
  // One after another, for both systems alike: y-webrtc's glare handling deadlocks under
  // wrtc when two peers offer to each other at once (see test/interop).
  for (let i = 0; i < n; i++) {
    const p = startPeerProcess(`${mode}-${i}`, { MODE: mode, RELAY: url, ROOM: room });
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
    });
  }
  return (last.at as number) - at;
}

/**
 * Both systems' N peers run at the same time and samples alternate between them, so
 * both see the same machine load (on a shared 2-core machine, load swings dominate
 * latency; measuring one system after the other compared two different machines).
 *
 * With `typists` > 0, the last `typists` peers of each system keep typing into the
 * shared Y.Text (TYPING_CPS keystrokes a second each, typist j seeded with j in both
 * systems) from before the first sample to after the last, and the marks are set by the
 * other peers in turn; a mark still counts until every other peer, typists included, has it.
 */
async function latencyBoth(n: number, typists = 0): Promise<Record<Mode, { p50: number; p99: number; typed?: number } | string>> {
  const label = typists ? `N=${n} typing` : `N=${n}`;
  const senders = n - typists;
  const modes: Mode[] = ['meshparty', 'y-webrtc'];
  const relays: Array<{ url: string; server: ServerProcess }> = [];
  const peers: Record<Mode, PeerProcess[]> = { meshparty: [], 'y-webrtc': [] };
  const samples: Record<Mode, number[]> = { meshparty: [], 'y-webrtc': [] };
  const failed: Partial<Record<Mode, string>> = {};
  const keystrokes: Partial<Record<Mode, number>> = {};
  try {
    for (const mode of modes) {
      const relay = await startRelay(mode);
      relays.push(relay);
      try {
        await startPeers(mode, relay.url, typists ? `type-${n}` : `lat-${n}`, n, 120_000, peers[mode]);
        for (let w = 0; w < 3; w++) await markLatency(peers[mode], w % n, `warm${w}`, 60_000); // everyone synced
      } catch (err) {
        failed[mode] = `failed: ${(err as Error).message.split('\n')[0]}`;
      }
    }
    const typing = modes.filter((m) => !failed[m]).flatMap((m) => peers[m].slice(senders));
    if (typists) {
      // Both systems' typists start together and type for a second before the first sample.
      await Promise.all(typing.map((p, j) => p.request({ cmd: 'type', seed: (j % typists) + 1, cps: TYPING_CPS }, 'typing')));
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (let i = 0; i < SAMPLES; i++) {
      for (const mode of i % 2 === 0 ? modes : [...modes].reverse()) {
        if (failed[mode]) continue;
        try {
          samples[mode].push(await markLatency(peers[mode], i % senders, `k${i}`, undefined, `${mode} ${label}`));
        } catch (err) {
          failed[mode] = `failed: ${(err as Error).message.split('\n')[0]}`;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (typists) {
      const typed = await Promise.all(typing.map((p) => p.request({ cmd: 'stop-typing' }, 'typed').then((e) => e.chars as number)));
      for (const m of modes) keystrokes[m] = typed.filter((_, j) => typing[j]!.name.startsWith(`${m}-`)).reduce((a, b) => a + b, 0);
      // Every peer must end with the same text, or the load was not really delivered.
      for (const m of modes) {
        if (failed[m]) continue;
        const deadline = Date.now() + 20_000;
        while (new Set((await Promise.all(peers[m].map((p) => p.request({ cmd: 'hash' }, 'hash')))).map((e) => e.value)).size > 1) {
          if (Date.now() > deadline) failed[m] = 'failed: peers\' texts differ 20 s after typing stopped';
          if (failed[m]) break;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  } finally {
    await Promise.all(modes.map((m) => stopAll(peers[m])));
    await Promise.all(relays.map((r) => r.server.stop()));
  }
  if (stagesOn) {
    for (const m of modes) {
      const log = stageLog[`${m} ${label}`] ?? [];
      if (log.length === 0) continue;
      const med = (pick: (x: Stages) => number) => percentile(log.map(pick), 50).toFixed(2);
      console.log(
        `stages ${m} ${label}, medians in ms from the edit: first send() ${med((x) => x.firstSend)}, last send() ${med((x) => x.lastSend)}, ` +
          `edit returned ${med((x) => x.editReturned)} (of which inside send() ${med((x) => x.inSend)}), ` +
          `last peer got the frame ${med((x) => x.lastArrival)}, applied it ${med((x) => x.lastSeen)}; ` +
          `send() durations in order: ${log[0]!.sendDurations.map((_, i) => med((x) => x.sendDurations[i] ?? NaN)).join(' ')}`,
      );
    }
  }
  const result = (m: Mode) => failed[m] ?? { p50: percentile(samples[m], 50), p99: percentile(samples[m], 99), ...(typists && { typed: keystrokes[m] }) };
  return { meshparty: result('meshparty'), 'y-webrtc': result('y-webrtc') };
}

/** Time from starting the joiner's process until it has the whole document, and from its first peer connection until then (ms). */
async function lateJoiner(mode: Mode, bytes: number): Promise<{ total: number; transfer: number } | string> {
  const { url, server } = await startRelay(mode);
  const peers: PeerProcess[] = [];
  try {
    const holder = startPeerProcess(`${mode}-holder`, { MODE: mode, RELAY: url, ROOM: 'late' });
    peers.push(holder);
    await holder.waitFor((e) => e.event === 'ready', 'ready');
    await holder.request({ cmd: 'fill', bytes }, 'filled', 60_000);
    const started = Date.now();
    const joiner = startPeerProcess(`${mode}-joiner`, { MODE: mode, RELAY: url, ROOM: 'late' });
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

async function traceBytes(mode: Mode): Promise<{ bytes: number; frames: number; ms: number } | string> {
  const { url, server } = await startRelay(mode);
  const peers: PeerProcess[] = [];
  try {
    await startPeers(mode, url, 'trace', 4, 120_000, peers);
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
const base = { bench: 'yjs', baselineName: 'y-webrtc 10.3.0' };
for (const n of parts.includes('latency') ? SIZES : []) {
  const { meshparty: ours, 'y-webrtc': theirs } = await latencyBoth(n);
  console.log(`latency N=${n}`, ours, theirs);
  for (const p of ['p50', 'p99'] as const) {
    rows.push({ ...base, case: `edit to all peers, N = ${n}`, metric: `latency ${p}`, unit: 'ms', better: 'lower', meshparty: num(ours, p), baseline: num(theirs, p), note: why(ours, theirs) });
  }
}
for (const n of parts.includes('typing') ? TYPING_SIZES : []) {
  const { meshparty: ours, 'y-webrtc': theirs } = await latencyBoth(n, TYPISTS);
  console.log(`latency while co-editing N=${n}`, ours, theirs);
  const load = `${TYPISTS} other peers typing ~${TYPING_CPS} chars/s each (seeded, same keystrokes in both)`;
  for (const p of ['p50', 'p99'] as const) {
    rows.push({ ...base, case: `edit to all peers while co-editing, N = ${n}`, metric: `latency ${p}`, unit: 'ms', better: 'lower', meshparty: num(ours, p), baseline: num(theirs, p), note: [load, why(ours, theirs)].filter(Boolean).join('; ') });
  }
}
for (const mb of !parts.includes('late') ? [] : quick ? [1] : [1, 16]) {
  const bytes = mb * 1024 * 1024;
  const ours = await lateJoiner('meshparty', bytes);
  const theirs = await lateJoiner('y-webrtc', bytes);
  console.log(`late joiner ${mb} MB`, ours, theirs);
  const note = [typeof ours === 'string' ? `meshparty ${ours}` : '', typeof theirs === 'string' ? `y-webrtc ${theirs} (it sends each message in one data-channel frame)` : ''].filter(Boolean).join('; ') || undefined;
  for (const [metric, key] of [['time from process start to whole document', 'total'], ['time from first connection to whole document', 'transfer']] as const) {
    rows.push({ ...base, case: `late joiner, ${mb} MB document`, metric, unit: 'ms', better: 'lower', meshparty: num(ours, key), baseline: num(theirs, key), note });
  }
}
if (parts.includes('trace')) {
  const ours = await traceBytes('meshparty');
  const theirs = await traceBytes('y-webrtc');
  console.log('trace', ours, theirs);
  const note = why(ours, theirs);
  rows.push({ ...base, case: 'trace replay (seph-blog1, CC BY 4.0), 4 peers', metric: 'bytes sent, all peers', unit: 'bytes', better: 'lower', meshparty: num(ours, 'bytes'), baseline: num(theirs, 'bytes'), note });
  rows.push({ ...base, case: 'trace replay (seph-blog1, CC BY 4.0), 4 peers', metric: 'data-channel frames sent, all peers', unit: 'frames', better: 'lower', meshparty: num(ours, 'frames'), baseline: num(theirs, 'frames'), note });
  rows.push({ ...base, case: 'trace replay (seph-blog1, CC BY 4.0), 4 peers', metric: 'time until all peers have endContent', unit: 'ms', better: 'lower', meshparty: num(ours, 'ms'), baseline: num(theirs, 'ms'), note });
}
report(rows);
process.exit(0);
