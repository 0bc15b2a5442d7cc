/**
 * Lockstep benchmarks, on the in-memory mesh (real mesh framing, simulated links,
 * simulated time so every figure is reproducible):
 *  1. input payload bytes per second per peer pair and direction at 60 Hz for a 4-byte
 *     input, against netplayjs-style JSON input messages (the issue cites ~130–160 bytes
 *     per input message, 8–10 KB/s at 60 Hz; a representative message is encoded below);
 *  2. frames from sampling an input to the frame being stepped on every peer, against RTT;
 *  3. stalls per minute under 5% loss and 50 ms jitter, against the same link without loss.
 */
import {
  ByteReader, ByteWriter, ManualClock, bytesInput, createLockstepSession, createMemoryNetwork, defineGame,
  type LockstepSession, type Room,
} from '../../src/index.js';
import { report, type BenchRow } from './harness.js';

const HZ = 60;
const FRAME_MS = 1000 / HZ;

/** A game with a 4-byte input (e.g. a quantized analog stick plus buttons). */
const game = defineGame<{ sum: number }, Uint8Array>({
  name: 'bench',
  input: bytesInput(4),
  init: () => ({ sum: 0 }),
  step: (s, inputs, ctx) => {
    for (const i of inputs.values()) s.sum = (s.sum + i[0]! + i[1]! * 3 + i[2]! * 5 + i[3]! * 7 + ctx.frame) >>> 0;
    return s;
  },
  serialize: (s) => new ByteWriter().u32(s.sum).finish(),
  deserialize: (b) => ({ sum: new ByteReader(b).u32() }),
});

type Pattern = 'human' | 'random';
/** `human`: a new input every 9 frames on average (held keys); `random`: a new 4-byte value every frame. */
function inputFor(pattern: Pattern, frame: number, index: number): Uint8Array {
  const k = pattern === 'human' ? Math.floor(frame / 9) : frame;
  let h = Math.imul(k + 1, 0x9e3779b1) ^ Math.imul(index + 7, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return new Uint8Array([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, h >>> 24]);
}

interface Run {
  sessions: Array<LockstepSession<{ sum: number }, Uint8Array>>;
  rooms: Room[];
  advance(ms: number): Promise<void>;
  clock: ManualClock;
}

async function setUp(players: number, link: { latencyMs: number; jitterMs: number; loss: number }, pattern: Pattern, inputDelay: number | 'auto', seed = 1): Promise<Run> {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed, clock, ...link });
  const rooms = Array.from({ length: players }, (_, i) => net.join('bench', { peerId: `p${i}` }));
  for (let i = 0; i < 50 && rooms.some((r) => r.peers.size < players - 1); i++) await net.advance(200);
  await net.advance(3000); // heartbeats measure RTT for inputDelay 'auto'
  const sessions = rooms.map((room, i) => {
    let frame = 0;
    const s = createLockstepSession({ room, game, clock, inputDelay, hashEvery: 30, log: () => {}, input: () => inputFor(pattern, frame, i) });
    s.on('frame', (e) => (frame = e.frame));
    return s;
  });
  await net.advance(100);
  sessions[0]!.start({ seed: 5 });
  await net.advance(100);
  return { sessions, rooms, clock, advance: (ms) => net.advance(ms) };
}

async function runFrames(run: Run, frames: number): Promise<void> {
  const target = Math.min(...run.sessions.map((s) => s.frame)) + frames;
  for (let i = 0; i < 100_000 && run.sessions.some((s) => s.frame < target); i++) await run.advance(500);
}

const rows: BenchRow[] = [];

// 1. Input payload bytes per second per pair and direction.
const netplayStyle = JSON.stringify({
  type: 'input',
  frame: 1234,
  input: { keysPressed: {}, keysHeld: { ArrowUp: true, ' ': true }, keysReleased: {}, touches: [], mousePosition: null },
});
const netplayBytesPerSecond = new TextEncoder().encode(netplayStyle).length * HZ;
for (const [label, players, pattern, link] of [
  ['2 players, held inputs, 25 ms latency', 2, 'human', { latencyMs: 25, jitterMs: 0, loss: 0 }],
  ['8 players, held inputs, 25 ms latency', 8, 'human', { latencyMs: 25, jitterMs: 0, loss: 0 }],
  ['2 players, held inputs, 5% loss + 50 ms jitter', 2, 'human', { latencyMs: 25, jitterMs: 50, loss: 0.05 }],
  ['2 players, new random input every frame, 25 ms latency', 2, 'random', { latencyMs: 25, jitterMs: 0, loss: 0 }],
  // Every input goes out until acknowledged, so the cost of incompressible inputs grows with RTT.
  ['2 players, new random input every frame, 30 ms latency', 2, 'random', { latencyMs: 30, jitterMs: 0, loss: 0 }],
] as const) {
  const run = await setUp(players, link, pattern, 'auto');
  const before = run.sessions.map((s) => s.stats().inputBytesSent);
  const t0 = run.clock.now();
  await runFrames(run, 60 * HZ);
  const seconds = (run.clock.now() - t0) / 1000;
  const perPair = run.sessions.map((s, i) => (s.stats().inputBytesSent - before[i]!) / (players - 1) / seconds);
  rows.push({
    bench: 'lockstep',
    case: `input payload, 4-byte input at 60 Hz: ${label}`,
    metric: 'payload per peer pair and direction',
    unit: 'B/s',
    meshparty: perPair.reduce((a, b) => a + b, 0) / perPair.length,
    baseline: netplayBytesPerSecond,
    baselineName: `netplayjs-style JSON input, ${netplayBytesPerSecond / HZ} B/msg`,
    better: 'lower',
    note: `target <= 1024 B/s; input delay ${run.sessions[0]!.inputDelay}`,
  });
  for (const s of run.sessions) s.leave();
}

// 2. Frames from sampling an input to that frame being stepped everywhere, against RTT.
for (const rtt of [20, 60, 120, 200]) {
  const run = await setUp(4, { latencyMs: rtt / 2, jitterMs: 0, loss: 0 }, 'human', 'auto', 2);
  const delay = run.sessions[0]!.inputDelay;
  const sampledAt = new Map<number, number>();
  const steppedAt = new Map<number, number>();
  run.sessions[0]!.on('frame', ({ frame }) => sampledAt.set(frame + delay, run.clock.now()));
  for (const s of run.sessions) {
    s.on('frame', ({ frame }) => steppedAt.set(frame - 1, Math.max(steppedAt.get(frame - 1) ?? 0, run.clock.now())));
  }
  await runFrames(run, 30 * HZ);
  const lags: number[] = [];
  for (const [frame, t] of sampledAt) {
    const done = steppedAt.get(frame);
    if (done !== undefined && frame > 600) lags.push((done - t) / FRAME_MS);
  }
  const mean = lags.reduce((a, b) => a + b, 0) / lags.length;
  rows.push({
    bench: 'lockstep',
    case: `input to confirmation, 4 players, RTT ${rtt} ms, no loss`,
    metric: 'frames from sampling an input to every peer stepping it',
    unit: 'frames',
    meshparty: mean,
    baseline: rtt / FRAME_MS,
    baselineName: 'one RTT in frames',
    better: 'lower',
    note: `inputDelay auto = ${delay}; ${lags.length} frames measured`,
  });
  for (const s of run.sessions) s.leave();
}

// 3. Stalls per minute under 5% loss and 50 ms jitter.
for (const inputDelay of ['auto', 2] as const) {
  const perMinute: number[] = [];
  for (const loss of [0.05, 0]) {
    const run = await setUp(4, { latencyMs: 25, jitterMs: 50, loss }, 'human', inputDelay, 3);
    const before = run.sessions.map((s) => s.stats().stalls);
    const t0 = run.clock.now();
    await runFrames(run, 120 * HZ);
    const minutes = (run.clock.now() - t0) / 60_000;
    const stalls = run.sessions.map((s, i) => (s.stats().stalls - before[i]!) / minutes);
    perMinute.push(stalls.reduce((a, b) => a + b, 0) / stalls.length);
    for (const s of run.sessions) s.leave();
  }
  rows.push({
    bench: 'lockstep',
    case: `4 players, 25 ms latency + 50 ms jitter, 5% loss, inputDelay ${inputDelay}`,
    metric: 'stalls per minute per peer',
    unit: 'stalls/min',
    meshparty: perMinute[0]!,
    baseline: perMinute[1]!,
    baselineName: 'same link, no loss',
    better: 'lower',
  });
}

report(rows);
process.exit(0);
