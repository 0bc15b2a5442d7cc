/**
 * Throughput of one 64 MiB message over a meshparty reliable channel against the
 * ceiling: a raw `RTCDataChannel` between the same kind of pair (two @roamhq/wrtc peer
 * connections in this process), fed in the best chunk size found by a quick sweep with
 * bufferedAmount flow control and no framing at all.
 *
 * meshparty runs exactly as an app would: two `joinRoom` peers over our relay (in this
 * process; it is idle during the transfer), default options. Rounds alternate between
 * the two; figures are medians. The received message is checked byte for byte.
 */
import wrtc from '@roamhq/wrtc';
import { WebSocket } from 'ws';
import { report } from './harness.js';
import { connectRawPair, rawTransfer, type RawPair, type RawWait } from './support/raw-datachannel.js';
import { createSignalingServer, silentLogger } from '../../signaling/index.js';
import { joinRoom, createRng, type Room } from '../../src/index.js';
import { waitFor } from '../support/net.js';

const MESSAGE_BYTES = 64 * 1024 * 1024;
const ROUNDS = Number(process.env.MESH_THROUGHPUT_ROUNDS ?? 5);
const SWEEP_CHUNKS = [16 * 1024, 64 * 1024, 256 * 1024];
/** Busy re-check vs a 1 ms timer while the buffer is full: which wins depends on CPU contention. */
const SWEEP_WAITS: RawWait[] = ['immediate', 1];
const SWEEP_BYTES = 16 * 1024 * 1024;
const RAW_HIGH_WATER = 4 * 1024 * 1024;
const TRANSFER_TIMEOUT_MS = 60_000;

/** Process CPU time in ms (user + system, every thread: the WebRTC stack's included). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const mbPerSecond = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface RawConfig {
  chunk: number;
  wait: RawWait;
}
const describeRaw = (c: RawConfig): string => `${c.chunk / 1024} KiB chunks, ${c.wait === 'immediate' ? 'setImmediate' : `${c.wait} ms`} re-check`;

/** The chunk size and wait strategy at which the raw channel is fastest here right now. */
async function bestRawConfig(pair: RawPair): Promise<RawConfig> {
  let best: RawConfig = { chunk: SWEEP_CHUNKS[0]!, wait: 'immediate' };
  let bestMs = Infinity;
  for (const chunk of SWEEP_CHUNKS) {
    if (chunk > pair.maxMessageSize) continue;
    for (const wait of SWEEP_WAITS) {
      const ms = await rawTransfer(pair, SWEEP_BYTES, chunk, RAW_HIGH_WATER, wait);
      console.log(`raw sweep: ${describeRaw({ chunk, wait })}: ${mbPerSecond(SWEEP_BYTES, ms).toFixed(1)} MB/s`);
      if (ms < bestMs) [best, bestMs] = [{ chunk, wait }, ms];
    }
  }
  return best;
}

/** Two meshparty peers in one room, connected to each other. */
async function connectMeshPair(relayUrl: string): Promise<{ a: Room; b: Room; leave(): Promise<void> }> {
  const room = `throughput-${process.pid}`;
  const a = await joinRoom({ relay: relayUrl, room, wrtc, WebSocket });
  const b = await joinRoom({ relay: relayUrl, room, wrtc, WebSocket });
  await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), 'meshparty pair connected', 30_000);
  return { a, b, leave: async () => void (await Promise.all([a.leave(), b.leave()])) };
}

/** One message a -> b on a reliable channel; ms from send() to b's message event, and what arrived. */
function meshTransfer(a: Room, b: Room, payload: Uint8Array): Promise<{ ms: number; data: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('meshparty transfer timed out')), TRANSFER_TIMEOUT_MS);
    const off = b.channel('bulk').on('message', ({ data }) => {
      const ms = performance.now() - start;
      clearTimeout(timer);
      off();
      resolve({ ms, data });
    });
    const start = performance.now();
    a.channel('bulk').send(b.selfId, payload).catch(reject);
  });
}

async function main(): Promise<void> {
  const payload = new Uint8Array(MESSAGE_BYTES);
  const rng = createRng(64);
  for (let i = 0; i < payload.length; i += 4096) payload.fill(Math.floor(rng.next() * 256), i, i + 4096);

  const relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
  const raw = await connectRawPair();
  const mesh = await connectMeshPair(relay.address.url);
  const rawMbs: number[] = [];
  const meshMbs: number[] = [];
  // CPU per transfer barely depends on what else the machine runs, unlike MB/s.
  const rawCpu: number[] = [];
  const meshCpu: number[] = [];
  let corrupted = 0;
  let config: RawConfig | undefined;
  try {
    config = await bestRawConfig(raw);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? ['meshparty', 'raw'] : ['raw', 'meshparty'];
      for (const which of order) {
        const cpu0 = cpuMs();
        if (which === 'raw') {
          rawMbs.push(mbPerSecond(MESSAGE_BYTES, await rawTransfer(raw, MESSAGE_BYTES, config.chunk, RAW_HIGH_WATER, config.wait)));
          rawCpu.push(cpuMs() - cpu0);
        } else {
          const r = await meshTransfer(mesh.a, mesh.b, payload);
          meshCpu.push(cpuMs() - cpu0);
          const d = r.data;
          if (Buffer.compare(Buffer.from(d.buffer, d.byteOffset, d.byteLength), Buffer.from(payload)) !== 0) corrupted++;
          meshMbs.push(mbPerSecond(MESSAGE_BYTES, r.ms));
        }
        // Let the previous transfer's acks, buffers and garbage settle before the next clock.
        await new Promise((r) => setTimeout(r, 500));
        console.log(`round ${round} ${which}: ${(which === 'raw' ? rawMbs : meshMbs).at(-1)!.toFixed(1)} MB/s`);
      }
    }
  } finally {
    raw.close();
    await mesh.leave();
    await relay.close();
  }
  report([
    {
      bench: 'mesh-throughput',
      case: 'one 64 MiB message, 2 peers, @roamhq/wrtc loopback',
      metric: 'throughput (median)',
      unit: 'MB/s',
      meshparty: median(meshMbs),
      baseline: median(rawMbs),
      baselineName: `raw RTCDataChannel, ${config ? describeRaw(config) : '?'}`,
      better: 'higher',
      note: [
        `${ROUNDS} rounds each`,
        `meshparty ${meshMbs.map((x) => x.toFixed(0)).join('/')}`,
        `raw ${rawMbs.map((x) => x.toFixed(0)).join('/')}`,
        corrupted ? `${corrupted} meshparty transfer(s) arrived CORRUPTED` : 'every meshparty transfer arrived intact',
      ].join('; '),
    },
    {
      bench: 'mesh-throughput',
      case: 'one 64 MiB message, 2 peers, @roamhq/wrtc loopback',
      metric: 'CPU time per transfer (median, both ends, all threads)',
      unit: 'ms',
      meshparty: median(meshCpu),
      baseline: median(rawCpu),
      baselineName: 'raw RTCDataChannel',
      better: 'lower',
      note: 'the part of the cost that hardly depends on how busy the machine is; meshparty includes framing, chunk headers and reassembly; the integrity check is done after the clock stops',
    },
  ]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
