/**
 * Offers that cross on a new media connection, over real @roamhq/wrtc: the polite side
 * does not roll its first offer back but answers on a new connection, and a connection
 * made for an incoming offer answers it before offering its own tracks. Chromium, after
 * rolling back a first offer that had found no ICE candidate yet, never gathers one
 * again on that connection: three video demo pages joining together mostly ended with a
 * tile that never played (test/e2e/video.test.ts). wrtc does not have that bug, so this
 * checks the rule itself: no rollback on a connection that never heard from the peer.
 */
import { afterEach, expect, it } from 'vitest';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type MediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import { frameCounter, syntheticCamera, until, wrtc } from './support/wrtc-media.js';

let net: MemoryNetwork;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** wrtc whose connections record the descriptions set on them (offer, answer, rollback), in order. */
function recordingWrtc(): { impl: typeof wrtc; connections: string[][] } {
  const connections: string[][] = [];
  function RTCPeerConnection(config?: RTCConfiguration) {
    const pc = new wrtc.RTCPeerConnection(config);
    const set: string[] = [];
    connections.push(set);
    const setLocal = pc.setLocalDescription.bind(pc);
    pc.setLocalDescription = (d?: { type: string }) => {
      // The argument-less form is refused by wrtc before it does anything (peer-media.ts).
      if (d) set.push(d.type);
      return setLocal(d);
    };
    return pc;
  }
  // `nonstandard` kept, so the media share still treats it as wrtc (wrtc-descriptions.ts).
  return { impl: { ...wrtc, RTCPeerConnection }, connections };
}

function member(id: string) {
  const rec = recordingWrtc();
  const room = net.join('call', { peerId: id });
  const media: MediaShare = createMediaShare(room, { wrtc: rec.impl, logger: silentLogger() });
  const added: RemoteMediaStream[] = [];
  media.on('stream-added', (s) => added.push(s));
  cleanups.push(async () => {
    media.destroy();
    await room.leave();
  });
  const cam = syntheticCamera();
  cleanups.push(cam.stop);
  return { room, media, added, connections: rec.connections, camera: cam.stream };
}

it('offers crossing on a new connection: the polite side answers on a new one, nothing is rolled back, both get frames', async () => {
  // 40 ms each way: each side's first offer is set before the other's arrives.
  net = createMemoryNetwork({ seed: 7, latencyMs: 40, mesh: { logger: silentLogger() } });
  const a = member('a');
  const b = member('b'); // polite towards a ('b' > 'a')
  await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
  a.media.publish(a.camera, { label: 'a-cam' });
  b.media.publish(b.camera, { label: 'b-cam' });
  await until('both streams', () => a.added.length === 1 && b.added.length === 1);
  for (const s of [a.added[0]!, b.added[0]!]) {
    const counter = frameCounter(s.stream);
    cleanups.push(counter.stop);
    await until('video frames', () => counter.frames() >= 5);
  }
  expect([a.added[0]!.label, b.added[0]!.label]).toEqual(['b-cam', 'a-cam']);
  // b's first connection made an offer and was replaced; the new one answered a's offer
  // first (an offer of its own first would cross a's again), then offered its camera.
  expect(b.connections).toHaveLength(2);
  expect(b.connections[0]).toEqual(['offer']);
  expect(b.connections[1]!.slice(0, 2)).toEqual(['answer', 'offer']);
  expect(a.connections).toHaveLength(1);
  expect([...a.connections, ...b.connections].flat()).not.toContain('rollback');
});
