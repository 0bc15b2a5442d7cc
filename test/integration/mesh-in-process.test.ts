/**
 * Real WebRTC and a real relay, many peers in this one process: the library has no
 * module-level state, so 8 rooms of the same room name coexist here. Checks a full mesh
 * with exactly one RTCPeerConnection per pair, and a 20 MB message arriving intact; on
 * each Node WebRTC engine, and with both engines in one room (they must interoperate:
 * a keeper on node-datachannel serves peers on anything).
 */
import { createHash } from 'node:crypto';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import type { WebRtcImplementation } from '../../src/transport/simple-peer.js';
import { createRng } from '../../src/util/rng.js';
import { waitFor } from '../support/net.js';
import { type NodeWebRtcEngine, NODE_WEBRTC_ENGINES, nodeWebRtc } from '../support/node-webrtc.js';

const quiet = { debug: () => {}, warn: () => {} };

/** `wrtc` with its RTCPeerConnections recorded into `connections`, to count the ones still open. */
function recording(wrtc: WebRtcImplementation, connections: Array<{ connectionState: string }>): WebRtcImplementation {
  const Base = wrtc.RTCPeerConnection as unknown as new (config?: unknown) => { connectionState: string };
  class RecordingPeerConnection extends Base {
    constructor(config?: unknown) {
      super(config);
      connections.push(this);
    }
  }
  return { ...wrtc, RTCPeerConnection: RecordingPeerConnection } as unknown as WebRtcImplementation;
}

/** Each case: the engine of every peer, by index (two engines alternate in the mixed room). */
const rooms8: Array<[string, (i: number) => NodeWebRtcEngine]> = [
  ...NODE_WEBRTC_ENGINES.map((e): [string, (i: number) => NodeWebRtcEngine] => [e, () => e]),
  ['both engines mixed', (i) => NODE_WEBRTC_ENGINES[i % 2]!],
];
const pairs: Array<[string, NodeWebRtcEngine, NodeWebRtcEngine]> = [
  ...NODE_WEBRTC_ENGINES.map((e): [string, NodeWebRtcEngine, NodeWebRtcEngine] => [e, e, e]),
  ['wrtc to node-datachannel', 'wrtc', 'node-datachannel'],
];

describe('mesh peers in one process over real WebRTC', () => {
  let relay: SignalingServer | undefined;
  let rooms: Room[] = [];
  afterEach(async () => {
    await Promise.all(rooms.map((r) => r.leave()));
    rooms = [];
    await relay?.close();
    relay = undefined;
  });

  it.each(rooms8)('8 peers form a full mesh with exactly one connection per pair (%s)', async (label, engineOf) => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const connections: Array<{ connectionState: string }> = [];
    const impl = new Map<NodeWebRtcEngine, WebRtcImplementation>();
    for (const e of new Set(Array.from({ length: 8 }, (_, i) => engineOf(i)))) impl.set(e, recording(await nodeWebRtc(e), connections));
    const started = performance.now();
    const joined: Array<Array<string>> = [];
    // Staggered joins in a seeded order, some together, some apart: glare must not make duplicates.
    const rng = createRng(8);
    rooms = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, rng.int(4) * 40));
        const room = await joinRoom({ relay: relay!.address.url, room: 'one-process', wrtc: impl.get(engineOf(i))!, WebSocket, logger: quiet });
        joined[i] = [];
        room.on('peer-joined', ({ id }) => joined[i]!.push(id));
        return room;
      }),
    );
    const ids = rooms.map((r) => r.selfId);
    expect(new Set(ids).size).toBe(8);
    await waitFor(() => rooms.every((r) => r.peers.size === 7), 'full mesh', 60_000, 50);
    console.log(`${label}: full mesh of 8 in one process ${(performance.now() - started).toFixed(0)} ms after the first join began`);
    for (const [i, r] of rooms.entries()) {
      expect([...r.peers.keys()].sort()).toEqual(ids.filter((id) => id !== r.selfId).sort());
      expect(joined[i]!.sort()).toEqual([...r.peers.keys()].sort()); // each remote announced once
    }
    // 28 pairs, two ends each: exactly 56 live RTCPeerConnections, whatever was tried on the way.
    await waitFor(() => connections.filter((c) => c.connectionState !== 'closed').length === 56, '56 live connections', 15_000);
    expect(connections.filter((c) => c.connectionState === 'connected')).toHaveLength(56);

    const got = rooms.map(() => new Set<string>());
    rooms.forEach((r, i) => r.channel('chat').on('message', ({ from }) => got[i]!.add(from)));
    await Promise.all(rooms.map((r) => r.channel('chat').broadcast(new TextEncoder().encode(`hi from ${r.selfId}`))));
    await waitFor(() => got.every((s) => s.size === 7), 'every broadcast everywhere', 30_000);
  }, 120_000);

  it.each(pairs)('a 20 MB message arrives intact (SHA-256) between two peers (%s)', async (label, from, to) => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const engines = [from, to];
    rooms = await Promise.all(engines.map(async (e) => joinRoom({ relay: relay!.address.url, room: 'big', wrtc: await nodeWebRtc(e), WebSocket, logger: quiet })));
    const [a, b] = rooms as [Room, Room];
    await waitFor(() => a.peers.has(b.selfId) && b.peers.has(a.selfId), 'a and b connected', 30_000);
    const size = 20 * 1024 * 1024;
    const big = new Uint8Array(size);
    const rng = createRng(20);
    const view = new DataView(big.buffer);
    for (let i = 0; i < size; i += 4) view.setUint32(i, (rng.next() * 2 ** 32) >>> 0);
    const sent = createHash('sha256').update(big).digest('hex');
    const received = new Promise<Uint8Array>((res) => b.channel('files').on('message', ({ data }) => res(data)));
    const started = performance.now();
    await a.channel('files').send(b.selfId, big);
    const data = await received;
    const seconds = (performance.now() - started) / 1000;
    console.log(`${label}: 20 MB over one meshparty channel: ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(1)} MB/s)`);
    expect(data.byteLength).toBe(size);
    expect(createHash('sha256').update(data).digest('hex')).toBe(sent);
  }, 120_000);
});
