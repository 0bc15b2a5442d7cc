/**
 * Mesh formation: how long N peers, each its own Node process, take to reach a full
 * mesh (every peer connected to every other) with meshparty (`joinRoom` over our relay)
 * and with y-webrtc 10.3.0 (`WebrtcProvider` over its own bin/server.js), in one run.
 *
 * The clock starts when every process is spawned, has loaded its modules and warmed
 * the WebRTC binding, and is told to join at the same instant; it stops when the last
 * peer sees N-1 open connections. The same processes serve both libraries, rounds
 * alternate between them, and each figure is the median of ROUNDS rounds.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { report, type BenchRow } from './harness.js';
import { startServerProcess, startYWebrtcServer } from './support/server-process.js';

const root = resolve(import.meta.dirname, '../..');
const peerScript = resolve(import.meta.dirname, 'support/mesh-formation-peer.ts');
// Env overrides are for profiling one case; the defaults are the benchmark.
const SIZES = (process.env.MESH_FORMATION_SIZES ?? '4,8,16').split(',').map(Number);
const KINDS = (process.env.MESH_FORMATION_KINDS ?? 'meshparty,y-webrtc').split(',') as Kind[];
const ROUNDS = Number(process.env.MESH_FORMATION_ROUNDS ?? 3);
/** A formation that takes longer than this counts as failed (reported, not waited on). */
const FORMATION_TIMEOUT_MS = 20_000;
const TRACE = process.env.MESH_FORMATION_TRACE === '1';
// No new round starts after this, so the whole run stays under ~3 minutes even when rounds time out.
const BENCH_DEADLINE = Date.now() + 130_000;

type Kind = 'meshparty' | 'y-webrtc';
type Msg = { event: 'ready' } | { event: 'full'; at: number; joinedAt: number; steps: number[]; cpuMs: number } | { event: 'left'; open: number } | { event: 'error'; message: string };

interface Peer {
  child: ChildProcess;
  alive(): boolean;
  next(match: (m: Msg) => boolean, timeoutMs: number): Promise<Msg>;
}

function spawnPeer(i: number): Peer {
  const child = fork(peerScript, [], {
    cwd: root,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-3000)));
  const inbox: Msg[] = [];
  const waiters = new Set<() => void>();
  child.on('message', (m: Msg) => {
    if (m.event === 'error') console.error(`peer ${i}: ${m.message}`);
    inbox.push(m);
    for (const w of [...waiters]) w();
  });
  child.on('exit', (code, signal) => {
    if (code !== 0) console.error(`peer ${i} exited (${code ?? signal}):\n${stderr.slice(-1500)}`);
    for (const w of [...waiters]) w();
  });
  // A send racing the child's exit fails asynchronously; the exit handling covers it.
  child.on('error', (err) => console.error(`peer ${i}: ${err.message}`));
  const next: Peer['next'] = (match, timeoutMs) =>
    new Promise((done, fail) => {
      const check = (): void => {
        const at = inbox.findIndex(match);
        if (at >= 0) {
          const [m] = inbox.splice(at, 1);
          finish();
          done(m!);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          finish();
          fail(new Error(`peer ${i} exited\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        fail(new Error(`peer ${i}: timed out after ${timeoutMs} ms\n${stderr}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, next, alive: () => child.exitCode === null && child.signalCode === null };
}

/**
 * One formation: ms from the join command to the last peer's full mesh (null if it did
 * not form), and how many peer processes died (crashed) during the round.
 */
async function formOnce(
  peers: Peer[],
  kind: Kind,
  url: string,
  room: string,
): Promise<{ ms: number | null; cpuMs: number | null; crashed: number }> {
  const n = peers.length;
  const fulls = peers.map((p) => p.next((m) => m.event === 'full' || m.event === 'error', FORMATION_TIMEOUT_MS));
  const t0 = performance.timeOrigin + performance.now();
  for (const p of peers) p.child.send({ cmd: 'join', kind, url, room, n });
  const results = await Promise.allSettled(fulls);
  if (TRACE) {
    // Per peer: joined at the relay (meshparty only), first connection, last connection.
    const rel = (t: number | undefined) => (t ? (t - t0).toFixed(0) : '-');
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled' && r.value.event === 'full') {
        const v = r.value;
        console.log(`  ${kind} N=${n} peer ${i}: joined ${rel(v.joinedAt)} first ${rel(v.steps[0])} conns ${v.steps.map(rel).join(',')}`);
      }
    }
  }
  let last: number | null = 0;
  let cpu: number | null = 0;
  for (const r of results) {
    if (r.status === 'rejected' || r.value.event !== 'full') last = cpu = null;
    else if (last !== null && cpu !== null) {
      last = Math.max(last, r.value.at - t0);
      cpu += r.value.cpuMs;
    }
  }
  for (const p of peers) p.child.send({ cmd: 'leave' });
  const left = await Promise.allSettled(peers.map((p) => p.next((m) => m.event === 'left', 10_000)));
  if (last === null) {
    // Say how far it got: open connections per peer when the round was given up.
    const open = left.map((r) => (r.status === 'fulfilled' && r.value.event === 'left' ? r.value.open : '?'));
    console.log(`  ${kind} N=${n}: open connections per peer at give-up: ${open.join(' ')}`);
  }
  // Let the previous round's connections finish closing before the next clock starts.
  await new Promise((r) => setTimeout(r, 500));
  return { ms: last, cpuMs: cpu, crashed: peers.filter((p) => !p.alive()).length };
}

/** Replace peer processes that died (a native WebRTC crash on teardown, say) with fresh, ready ones. */
async function respawnDead(all: Peer[]): Promise<void> {
  const fresh: Promise<unknown>[] = [];
  for (const [i, p] of all.entries()) {
    if (p.alive()) continue;
    all[i] = spawnPeer(i);
    fresh.push(all[i]!.next((m) => m.event === 'ready', 120_000));
  }
  await Promise.all(fresh);
}

/**
 * Median over every round, a round without a full mesh counting as slower than any that
 * formed (y-webrtc often leaves a pair unconnected at N = 16). If the median itself falls
 * on such a round, the figure is the give-up time: a lower bound, said in the note.
 */
const median = (xs: number[], failed: number): number | null => {
  const all = [...[...xs].sort((a, b) => a - b), ...Array<number>(failed).fill(FORMATION_TIMEOUT_MS)];
  if (all.length === 0) return null;
  const m = all.length >> 1;
  return all.length % 2 ? all[m]! : (all[m - 1]! + all[m]!) / 2;
};

async function main(): Promise<void> {
  // Both relays in their own process, started the way their users start them, so
  // neither shares a CPU queue with this driver.
  const relay = await startServerProcess({
    name: 'meshparty signal',
    cwd: root,
    args: [resolve(root, 'bin/meshparty.js'), 'signal', '--host', '127.0.0.1', '--port', '0'],
    readyLine: (line) => {
      const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      return m ? Number(m[1]) : false;
    },
  });
  const yServer = await startYWebrtcServer(root);
  const yPort = yServer.port;
  const urls: Record<Kind, string> = { meshparty: `ws://127.0.0.1:${relay.port}`, 'y-webrtc': `ws://127.0.0.1:${yPort}` };
  const all = Array.from({ length: Math.max(...SIZES) }, (_, i) => spawnPeer(i));
  const rows: BenchRow[] = [];
  try {
    await Promise.all(all.map((p) => p.next((m) => m.event === 'ready', 120_000)));
    let roomSeq = 0;
    // One unmeasured round per library on every process: first calls (WebSocket, JIT,
    // the relays' code paths) cost tens of ms and would land on whoever goes first.
    const crashes: Record<Kind, number> = { meshparty: 0, 'y-webrtc': 0 };
    // Warm up in rooms of 4 (a big room could stall y-webrtc and waste the time budget).
    for (const kind of KINDS) {
      const groups = Array.from({ length: Math.ceil(all.length / 4) }, (_, g) => all.slice(g * 4, g * 4 + 4));
      const warm = await Promise.all(groups.map((g) => formOnce(g, kind, urls[kind], `formation-warmup-${roomSeq++}`)));
      crashes[kind] += warm.reduce((sum, w) => sum + w.crashed, 0);
      await respawnDead(all);
    }
    for (const n of SIZES) {
      const times: Record<Kind, number[]> = { meshparty: [], 'y-webrtc': [] };
      const cpus: Record<Kind, number[]> = { meshparty: [], 'y-webrtc': [] };
      const failures: Record<Kind, number> = { meshparty: 0, 'y-webrtc': 0 };
      // Every size gets at least one round, even past the deadline.
      for (let round = 0; round < ROUNDS && (round === 0 || Date.now() < BENCH_DEADLINE); round++) {
        // Alternate which library goes first so neither always runs on a warmer machine.
        const order = round % 2 ? [...KINDS].reverse() : KINDS;
        for (const kind of order) {
          const { ms, cpuMs, crashed } = await formOnce(all.slice(0, n), kind, urls[kind], `formation-${n}-${roomSeq++}`);
          crashes[kind] += crashed;
          await respawnDead(all);
          if (ms === null) failures[kind]++;
          else times[kind].push(ms);
          if (cpuMs !== null) cpus[kind].push(cpuMs);
          console.log(`N=${n} ${kind} round ${round}: ${ms === null ? 'no full mesh' : `${ms.toFixed(0)} ms`}`);
        }
      }
      const fail = (k: Kind) =>
        failures[k] ? `${failures[k]} round(s) without a full mesh in ${FORMATION_TIMEOUT_MS / 1000} s (counted as ${FORMATION_TIMEOUT_MS} ms)` : '';
      rows.push({
        bench: 'mesh-formation',
        case: `${n} peers, separate processes`,
        metric: 'time to full mesh (median)',
        unit: 'ms',
        meshparty: median(times.meshparty, failures.meshparty),
        baseline: median(times['y-webrtc'], failures['y-webrtc']),
        baselineName: 'y-webrtc 10.3.0',
        better: 'lower',
        note: [
          `${times.meshparty.length}+${times['y-webrtc'].length} rounds`,
          `meshparty ${times.meshparty.map((t) => t.toFixed(0)).join('/')}`,
          `y-webrtc ${times['y-webrtc'].map((t) => t.toFixed(0)).join('/')}`,
          fail('meshparty') && `meshparty: ${fail('meshparty')}`,
          fail('y-webrtc') && `y-webrtc: ${fail('y-webrtc')}`,
          (failures.meshparty || failures['y-webrtc']) &&
            `ratio over formed rounds only: ${
              times.meshparty.length && times['y-webrtc'].length
                ? (median(times.meshparty, 0)! / median(times['y-webrtc'], 0)!).toFixed(2)
                : 'n/a'
            }`,
          crashes.meshparty + crashes['y-webrtc'] > 0 &&
            `peer processes that crashed so far (replaced): meshparty ${crashes.meshparty}, y-webrtc ${crashes['y-webrtc']}`,
        ]
          .filter(Boolean)
          .join('; '),
      });
      rows.push({
        bench: 'mesh-formation',
        case: `${n} peers, separate processes`,
        metric: 'CPU time to full mesh, all processes (median)',
        unit: 'ms',
        meshparty: cpus.meshparty.length ? median(cpus.meshparty, 0) : null,
        baseline: cpus['y-webrtc'].length ? median(cpus['y-webrtc'], 0) : null,
        baselineName: 'y-webrtc 10.3.0',
        better: 'lower',
        note: 'summed over the peer processes from the join command to their full mesh (rounds that formed only); hardly depends on how busy the machine is',
      });
    }
  } finally {
    for (const p of all) if (p.child.connected) p.child.send({ cmd: 'exit' });
    await new Promise((r) => setTimeout(r, 300));
    for (const p of all) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await yServer.stop();
    await relay.stop();
  }
  report(rows);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
