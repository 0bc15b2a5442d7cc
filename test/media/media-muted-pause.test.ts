/**
 * A muted camera stops being encoded: media.setMuted(stream, { video: true }) sends black
 * frames for a second (a peer that ignores `muted` then shows black, not the last
 * picture frozen), then pauses that video's encoding to every peer (active: false, at
 * the size the peer's view asked for) until it is unmuted; a peer that connects while
 * it is paused gets its second of black, then is paused too. Three real @roamhq/wrtc peers and a late one; what the
 * sender's engine is asked for is recorded (encoding-engine.ts: wrtc 0.10 refuses
 * setParameters once negotiated, so Node can only see the request).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { createMediaShare, type MediaShare } from '../../src/media/index.js';
import { encodingEngine } from './support/encoding-engine.js';
import { frameCounter, noisyCamera, until } from './support/wrtc-media.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

describe('a muted camera', () => {
  it('is paused to every peer a second after setMuted (its view size kept), to a late joiner after its own second, and resumed on unmute', async () => {
    const recorder = encodingEngine();
    const net = createMemoryNetwork({ seed: 501, mesh: { logger: silentLogger() } });
    const rooms: Room[] = [];
    const shares: MediaShare[] = [];
    const member = (id: string) => {
      const room = net.join('call', { peerId: id });
      const media = createMediaShare(room, { wrtc: recorder.engine, logger: silentLogger() });
      rooms.push(room);
      shares.push(media);
      return { room, media };
    };
    const camera = noisyCamera();
    cleanups.push(async () => {
      camera.stop();
      for (const m of shares) m.destroy();
      await Promise.all(rooms.map((r) => r.leave()));
    });
    const [a, b, c] = ['a', 'b', 'c'].map(member) as [ReturnType<typeof member>, ReturnType<typeof member>, ReturnType<typeof member>];
    await until('the mesh', () => [a, b, c].every((m) => m.room.peers.size === 2));
    a.media.publish(camera.stream, { label: 'camera', maxBitrate: 800_000 });
    const shown = (m: MediaShare) => m.remoteStreams().find((s) => s.peerId === 'a');
    await until("a's camera at b and c", () => shown(b.media) !== undefined && shown(c.media) !== undefined);
    b.media.setViewSize('a', shown(b.media)!.stream, { width: 160, height: 120 });
    const to = (peer: string) => recorder.encodingTo(a.media, peer);
    await until('the encoding for b scaled down', async () => (await to('b'))?.scaleResolutionDownBy === 4);

    const mutedAt = Date.now();
    a.media.setMuted(camera.stream, { video: true });
    await until('the encodings paused', async () => (await to('b'))?.active === false && (await to('c'))?.active === false, 5000);
    // Not before the black frames had their second.
    expect(Date.now() - mutedAt).toBeGreaterThanOrEqual(950);
    // Paused at the size b asked for: unmuting changes only `active`.
    expect(await to('b')).toMatchObject({ active: false, scaleResolutionDownBy: 4, maxBitrate: 50_000 });
    expect(await to('c')).toMatchObject({ active: false, maxBitrate: 800_000 });

    // A peer connecting meanwhile gets black frames too, then is paused: its connection
    // starts active, since an engine that refuses setParameters once negotiated (wrtc)
    // would otherwise never send it the camera, unmuted or not.
    const d = member('d');
    await until("a's muted camera at d", () => shown(d.media)?.muted.video === true);
    await until("the encoding for d paused", async () => (await to('d'))?.active === false, 5000);

    a.media.setMuted(camera.stream, { video: false });
    // One at a time: encodingTo finds a connection through its stats call.
    await until('the encodings resumed', async () => (await to('b'))?.active === true && (await to('c'))?.active === true && (await to('d'))?.active === true, 5000);
    expect(await to('b')).toMatchObject({ active: true, scaleResolutionDownBy: 4, maxBitrate: 50_000 });
    expect(camera.stream.getVideoTracks()[0]!.enabled).toBe(true);
    // wrtc's own sender for d was never asked to pause (recorded only): d gets the camera.
    const atD = frameCounter(shown(d.media)!.stream);
    cleanups.push(atD.stop);
    await until('the camera at d', () => atD.frames() > 0 && atD.width() === 640, 20_000);
  }, 60_000);
});
