/**
 * Real WebRTC (@roamhq/wrtc) and a real relay, many peers in this one process: the
 * library has no module-level state, so 8 rooms of the same room name coexist here.
 * Checks a full mesh with exactly one RTCPeerConnection per pair, and a 20 MB message
 * arriving intact.
 */
import { createHash } from 'node:crypto';
import wrtc from '@roamhq/wrtc';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createSignalingServer, silentLogger, type SignalingServer } from '../../signaling/index.js';
import { joinRoom } from '../../src/mesh/join-room.js';
import type { Room } from '../../src/mesh/types.js';
import type { WebRtcImplementation } from '../../src/transport/simple-peer.js';
import { createRng } from '../../src/util/rng.js';
import { waitFor } from '../support/net.js';

const quiet = { debug: () => {}, warn: () => {} };

/** wrtc whose RTCPeerConnections are all recorded, to count the ones still open. */
function recordingWrtc() {
  const connections: Array<{ connectionState: string }> = [];
  const Base = wrtc.RTCPeerConnection as unknown as new (config?: unknown) => { connectionState: string };
  class RecordingPeerConnection extends Base {
    constructor(config?: unknown) {
      super(config);
      connections.push(this);
    }
  }
  return { impl: { ...wrtc, RTCPeerConnection: RecordingPeerConnection } as unknown as WebRtcImplementation, connections };
}

describe('mesh peers in one process over real WebRTC', () => {
  let relay: SignalingServer | undefined;
  let rooms: Room[] = [];
  afterEach(async () => {
    await Promise.all(rooms.map((r) => r.leave()));
    rooms = [];
    await relay?.close();
    relay = undefined;
  });

  it('8 peers form a full mesh with exactly one connection per pair', async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    const rec = recordingWrtc();
    const joined: Array<Array<string>> = [];
    // Staggered joins in a seeded order, some together, some apart: glare must not make duplicates.
    const rng = createRng(8);
    rooms = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, rng.int(4) * 40));
        const room = await joinRoom({ relay: relay!.address.url, room: 'one-process', wrtc: rec.impl, WebSocket, logger: quiet });
        joined[i] = [];
        room.on('peer-joined', ({ id }) => joined[i]!.push(id));
        return room;
      }),
    );
    const ids = rooms.map((r) => r.selfId);
    expect(new Set(ids).size).toBe(8);
    await waitFor(() => rooms.every((r) => r.peers.size === 7), 'full mesh', 60_000, 50);
    for (const [i, r] of rooms.entries()) {
      expect([...r.peers.keys()].sort()).toEqual(ids.filter((id) => id !== r.selfId).sort());
      expect(joined[i]!.sort()).toEqual([...r.peers.keys()].sort()); // each remote announced once
    }
    // 28 pairs, two ends each: exactly 56 live RTCPeerConnections, whatever was tried on the way.
    await waitFor(() => rec.connections.filter((c) => c.connectionState !== 'closed').length === 56, '56 live connections', 15_000);
    expect(rec.connections.filter((c) => c.connectionState === 'connected')).toHaveLength(56);

    const got = rooms.map(() => new Set<string>());
    rooms.forEach((r, i) => r.channel('chat').on('message', ({ from }) => got[i]!.add(from)));
    await Promise.all(rooms.map((r) => r.channel('chat').broadcast(new TextEncoder().encode(`hi from ${r.selfId}`))));
    await waitFor(() => got.every((s) => s.size === 7), 'every broadcast everywhere', 30_000);
  }, 120_000);

  it('a 20 MB message arrives intact (SHA-256) between two peers', async () => {
    relay = await createSignalingServer({ host: '127.0.0.1', port: 0, logger: silentLogger });
    rooms = await Promise.all([0, 1].map(() => joinRoom({ relay: relay!.address.url, room: 'big', wrtc, WebSocket, logger: quiet })));
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
    console.log(`20 MB over one meshparty channel: ${seconds.toFixed(2)} s (${(size / 1e6 / seconds).toFixed(1)} MB/s)`);
    expect(data.byteLength).toBe(size);
    expect(createHash('sha256').update(data).digest('hex')).toBe(sent);
  }, 120_000);
});
