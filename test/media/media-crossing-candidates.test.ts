/**
 * When first offers cross, the polite side answers the other's offer on a new connection
 * (peer-media.ts, yieldsTo). The impolite side had already received the polite side's
 * first offer (and ignored it), so the candidates it gathers from then on until the
 * answer comes are addressed to that first connection. Those must reach the new one:
 * with them dropped, the polite side only learns the candidates found before, usually the
 * host ones, and a pair that needs STUN or TURN candidates (found later) cannot connect.
 */
import { afterEach, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type RemoteMediaStream } from '../../src/media/index.js';
import { syntheticCamera, until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/**
 * wrtc whose connections report each ICE candidate `delayMs` late (as a STUN or TURN
 * candidate comes after the host ones), counting them, and count the remote candidates
 * added to each connection.
 */
function instrumentedWrtc(delayMs: number): { impl: typeof wrtc; gathered: number[]; added: number[] } {
  const gathered: number[] = [];
  const added: number[] = [];
  function RTCPeerConnection(config?: RTCConfiguration) {
    const pc = new wrtc.RTCPeerConnection(config);
    const n = gathered.push(0) - 1;
    added.push(0);
    let handler: ((e: RTCPeerConnectionIceEvent) => void) | null = null;
    const late = (e: RTCPeerConnectionIceEvent) => {
      if (e.candidate?.candidate) gathered[n]!++;
      setTimeout(() => handler?.(e), delayMs);
    };
    Object.defineProperty(pc, 'onicecandidate', { get: () => late, set: (h) => (handler = h) });
    const addIceCandidate = pc.addIceCandidate.bind(pc);
    pc.addIceCandidate = (c: RTCIceCandidateInit) => {
      added[n]!++;
      return addIceCandidate(c);
    };
    return pc;
  }
  // `nonstandard` kept, so the media share still treats it as wrtc (wrtc-descriptions.ts).
  return { impl: { ...wrtc, RTCPeerConnection }, gathered, added };
}

it('candidates the impolite side gathers while its offer crossed the polite one reach the connection that answers it', async () => {
  // 100 ms each way; a's candidates come 150 ms after its offer: after b's first offer
  // reached a (100 ms), before b's answer did (~200 ms).
  const net = createMemoryNetwork({ seed: 71, latencyMs: 100, mesh: { logger: silentLogger() } });
  const peers = ['a', 'b'].map((id) => {
    const rec = instrumentedWrtc(id === 'a' ? 150 : 0);
    const room = net.join('call', { peerId: id });
    const media = createMediaShare(room, { wrtc: rec.impl, logger: silentLogger() });
    const added: RemoteMediaStream[] = [];
    media.on('stream-added', (s) => added.push(s));
    const cam = syntheticCamera();
    cleanups.push(async () => {
      cam.stop();
      media.destroy();
      await room.leave();
    });
    return { room, media, added, rec, camera: cam.stream };
  });
  const [a, b] = peers as [(typeof peers)[0], (typeof peers)[0]]; // b is polite ('b' > 'a')
  await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
  a.media.publish(a.camera, { label: 'a-cam' });
  b.media.publish(b.camera, { label: 'b-cam' });
  await until('both streams', () => a.added.length === 1 && b.added.length === 1);
  await new Promise((r) => setTimeout(r, 500)); // every candidate delivered
  expect(a.rec.gathered).toHaveLength(1);
  expect(b.rec.gathered).toHaveLength(2); // b's first connection was replaced: offers crossed
  expect(a.rec.gathered[0]).toBeGreaterThan(0);
  // Every candidate of a's reached b's connection to it.
  expect(b.rec.added[1]).toBe(a.rec.gathered[0]);
}, 30_000);
