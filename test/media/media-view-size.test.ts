/**
 * media.setViewSize: a receiver tells the sender how large it shows the sender's stream,
 * and the sender encodes for that peer no larger (RTCRtpSender.setParameters on that
 * peer's connection only), pauses it for a peer that hides it, changes it at most every
 * 250 ms however often the size changes, re-scales it when the camera changes size, and
 * never renegotiates. Three real @roamhq/wrtc peers; what the sender's engine is asked
 * for is recorded (see encoding-engine.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { Room } from '../../src/mesh/types.js';
import { createMediaShare, type MediaShare } from '../../src/media/index.js';
import { parseMediaMessage } from '../../src/media/media-wire.js';
import { encodingEngine } from './support/encoding-engine.js';
import { frameCounter, noisyCamera, until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** a shares a 640×480 camera capped at 800 kbit/s with b and c; resolves once both show it. */
async function call(seed: number) {
  const recorder = encodingEngine();
  const net = createMemoryNetwork({ seed, mesh: { logger: silentLogger() } });
  const [a, b, c] = ['a', 'b', 'c'].map((id) => net.join('call', { peerId: id })) as [Room, Room, Room];
  const [ma, mb, mc] = [a, b, c].map((r) => createMediaShare(r, { wrtc: recorder.engine, logger: silentLogger() })) as [MediaShare, MediaShare, MediaShare];
  const camera = noisyCamera();
  cleanups.push(async () => {
    camera.stop();
    for (const m of [ma, mb, mc]) m.destroy();
    await Promise.all([a, b, c].map((r) => r.leave()));
  });
  await until('the mesh', () => [a, b, c].every((r) => r.peers.size === 2));
  // Views a receives from its peers, as they arrive.
  const viewsAtA: string[] = [];
  a.channel('media').on('message', ({ from, data }) => {
    const parsed = parseMediaMessage(data);
    if (parsed.ok && parsed.message.t === 'view') viewsAtA.push(`${from}:${parsed.message.width}x${parsed.message.height}`);
  });
  ma.publish(camera.stream, { label: 'camera', maxBitrate: 800_000 });
  const shown = (m: MediaShare) => m.remoteStreams().find((s) => s.peerId === 'a');
  await until("a's camera at b and c", () => shown(mb) !== undefined && shown(mc) !== undefined);
  return { a, ma, mb, mc, camera, recorder, viewsAtA, atB: shown(mb)!, atC: shown(mc)! };
}

describe('media view sizes', () => {
  it('a small view makes the encoding for that peer smaller, a hidden one pauses it; another peer keeps full size', async () => {
    const { ma, mb, mc, recorder, atB, atC } = await call(401);
    const frames = frameCounter(atC.stream);
    cleanups.push(frames.stop);
    expect(mb.setViewSize('a', atB.stream, { width: 160, height: 120 })).toBe(true);
    expect(mc.setViewSize('a', atC.stream, { width: 640, height: 480 })).toBe(true);
    const toB = () => recorder.encodingTo(ma, 'b');
    const toC = () => recorder.encodingTo(ma, 'c');
    await until('the encoding for b scaled down', async () => (await toB())?.scaleResolutionDownBy === 4);
    // A quarter on each side: 1/16 of the pixels, and of the 800 kbit/s cap.
    expect(await toB()).toMatchObject({ active: true, scaleResolutionDownBy: 4, maxBitrate: 50_000 });
    // c shows it at full size: its encoding was never touched.
    expect(await recorder.callsTo(ma, 'c')).toEqual([]);
    expect(await toC()).toMatchObject({ active: true, maxBitrate: 800_000 });
    expect((await toC())?.scaleResolutionDownBy ?? 1).toBe(1);
    await until("c's frames, full size", () => frames.frames() >= 5 && frames.width() === 640);

    // b hides its tile: paused for b only.
    mb.setViewSize('a', atB.stream, { width: 0, height: 0 });
    await until('the encoding for b paused', async () => (await toB())?.active === false);
    expect((await toC())?.active).toBe(true);
    // Shown again at 320×240: half a side each way, a quarter of the cap.
    mb.setViewSize('a', atB.stream, { width: 320.4, height: 240 });
    await until('the encoding for b back', async () => (await toB())?.active === true);
    expect(await toB()).toMatchObject({ active: true, scaleResolutionDownBy: 2, maxBitrate: 200_000 });
  }, 60_000);

  it('a resize drag (60 sizes in a second) sends a few views and calls setParameters at most every 250 ms, ending at the last size; no renegotiation', async () => {
    const { ma, mb, recorder, viewsAtA, atB } = await call(402);
    await until('negotiated', async () => (await ma.stats('b')) !== undefined && recorder.descriptions() >= 4);
    await new Promise((r) => setTimeout(r, 500)); // let the first exchange and its candidates settle before counting
    const descriptionsBefore = recorder.descriptions();
    const start = performance.now();
    for (let i = 0; i < 60; i++) {
      mb.setViewSize('a', atB.stream, { width: 640 - i * 8, height: 480 - i * 6 });
      await new Promise((r) => setTimeout(r, 1000 / 60));
    }
    const dragMs = performance.now() - start;
    // The last size, 168×126: a scale of 2.83 (640/168 = 3.8, stepped down to a √2 step).
    await until('the last size applied', async () => (await recorder.encodingTo(ma, 'b'))?.scaleResolutionDownBy === 2.828);
    await until('the last view arrived', () => viewsAtA.at(-1) === 'b:168x126');
    // One at once, then one per 250 ms at most, and the trailing one.
    const most = Math.ceil(dragMs / 250) + 2;
    expect(viewsAtA.length, viewsAtA.join(' ')).toBeLessThanOrEqual(most);
    expect(recorder.calls.length, JSON.stringify(recorder.calls.map((c) => c.encoding))).toBeLessThanOrEqual(most);
    expect(recorder.calls.length).toBeGreaterThanOrEqual(2);
    expect(recorder.descriptions()).toBe(descriptionsBefore);
  }, 60_000);

  it('replaceTrack re-sizes the encoding for the new camera and keeps it muted', async () => {
    const { ma, mb, camera, recorder, atB } = await call(403);
    mb.setViewSize('a', atB.stream, { width: 160, height: 120 });
    await until('scaled for the 640×480 camera', async () => (await recorder.encodingTo(ma, 'b'))?.scaleResolutionDownBy === 4);
    ma.setMuted(camera.stream, { video: true });
    // A 320×240 camera (wrtc's tracks all say 640×480: this one tells its real size).
    const source = new wrtc.nonstandard.RTCVideoSource();
    const small = source.createTrack() as MediaStreamTrack;
    Object.defineProperty(small, 'getSettings', { value: () => ({ width: 320, height: 240 }) });
    cleanups.push(() => small.stop());
    const [old] = camera.stream.getVideoTracks();
    await ma.replaceTrack(camera.stream, old!, small);
    await until('scaled for the 320×240 camera', async () => (await recorder.encodingTo(ma, 'b'))?.scaleResolutionDownBy === 2);
    expect(small.enabled).toBe(false);
    expect(mb.remoteStreams()[0]?.muted.video).toBe(true);
  }, 60_000);

  it('a camera that changes size while a view holds is scaled anew for that view', async () => {
    const { ma, mb, camera, recorder, atB } = await call(405);
    // wrtc's tracks always say 640×480: this one tells the size it is set to.
    let size = { width: 640, height: 480 };
    Object.defineProperty(camera.stream.getVideoTracks()[0]!, 'getSettings', { value: () => size });
    mb.setViewSize('a', atB.stream, { width: 160, height: 120 });
    await until('scaled for 640×480', async () => (await recorder.encodingTo(ma, 'b'))?.scaleResolutionDownBy === 4);
    // The app lowers the camera's resolution (applyConstraints): a scale of 4 would send b 80×60 for its 160×120 tile.
    size = { width: 320, height: 240 };
    await until('scaled for 320×240', async () => (await recorder.encodingTo(ma, 'b'))?.scaleResolutionDownBy === 2, 5000);
    expect(await recorder.encodingTo(ma, 'b')).toMatchObject({ active: true, scaleResolutionDownBy: 2, maxBitrate: 200_000 });
  }, 60_000);

  it('setViewSize refuses bad sizes with bad-argument, returns false for a stream not shown, and closed after destroy', async () => {
    const { mb, atB } = await call(404);
    for (const size of [{ width: -1, height: 10 }, { width: Number.NaN, height: 10 }, { width: 10, height: Infinity }, { width: '10', height: 10 }, null]) {
      expect(() => mb.setViewSize('a', atB.stream, size as never)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    }
    expect(mb.setViewSize('c', atB.stream, { width: 10, height: 10 })).toBe(false);
    expect(mb.setViewSize('a', new wrtc.MediaStream() as MediaStream, { width: 10, height: 10 })).toBe(false);
    mb.destroy();
    expect(() => mb.setViewSize('a', atB.stream, { width: 10, height: 10 })).toThrow(expect.objectContaining({ code: 'closed' }));
  }, 60_000);
});
