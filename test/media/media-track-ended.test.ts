/**
 * A published stream whose tracks end stops being shared, however they end. `track.stop()`
 * fires no `ended` event (in browsers nor in @roamhq/wrtc): only the engine's own end
 * (the browser's "stop sharing" bar, an unplugged camera) does. Apps that stop their
 * tracks to end a call or a screen share must still take the stream away from the peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { parseMediaMessage } from '../../src/media/media-wire.js';
import { syntheticCamera, until, wrtc } from './support/wrtc-media.js';
import { mediaMember, type MediaMember } from './support/media-member.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function pair(seed: number): Promise<[MediaMember, MediaMember]> {
  const net = createMemoryNetwork({ seed, mesh: { logger: silentLogger() } });
  const members = ['a', 'b'].map((id) => mediaMember(net, id, cleanups)) as [MediaMember, MediaMember];
  await until('the mesh', () => members.every((m) => m.room.peers.size === 1));
  return members;
}

/** A synthetic camera and microphone in one stream. */
function cameraAndMic(): { stream: MediaStream; video: MediaStreamTrack; audio: MediaStreamTrack } {
  const cam = syntheticCamera();
  const source = new wrtc.nonstandard.RTCAudioSource();
  const audio = source.createTrack() as MediaStreamTrack;
  const samples = new Int16Array(480);
  const timer = setInterval(() => source.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 }), 10);
  cleanups.push(() => {
    clearInterval(timer);
    audio.stop();
    cam.stop();
  });
  const video = cam.stream.getVideoTracks()[0]!;
  return { stream: new wrtc.MediaStream([video, audio]) as MediaStream, video, audio };
}

describe('a published stream whose tracks are stopped', () => {
  it('stops being shared once every track is stopped with track.stop(), not before', async () => {
    const [a, b] = await pair(41);
    const { stream, video, audio } = cameraAndMic();
    const stopSharing = a.media.publish(stream, { label: 'camera' });
    await until('b shows the camera', () => b.added.length === 1);
    expect(b.added[0]!.stream.getTracks().map((t) => t.kind).sort()).toEqual(['audio', 'video']);

    video.stop(); // the mic still runs: still shared
    await new Promise((r) => setTimeout(r, 2500));
    expect(b.removed).toEqual([]);

    audio.stop();
    await until('b drops the camera', () => b.removed.length === 1, 5000);
    expect(b.removed[0]!.stream.id).toBe(stream.id);
    expect(b.media.remoteStreams()).toEqual([]);
    stopSharing(); // still harmless
    await new Promise((r) => setTimeout(r, 300));
    expect([b.added.length, b.removed.length]).toEqual([1, 1]);
  }, 30_000);

  it('one kind ended (the camera unplugged, the mic still on) is announced as muted: peers mark the tile camera off, not a frozen picture', async () => {
    const [a, b] = await pair(43);
    const { stream, video } = cameraAndMic();
    a.media.publish(stream, { label: 'camera' });
    await until('b shows the camera', () => b.added.length === 1);
    expect(b.added[0]!.muted).toEqual({ audio: false, video: false });

    video.stop(); // like an unplugged camera's track; its end fires no event here, so the check finds it
    await until('b is told the video is gone', () => b.updated.length === 1, 5000);
    expect(b.updated[0]!.muted).toEqual({ audio: false, video: true });
    expect(b.media.remoteStreams().map((s) => s.muted)).toEqual([{ audio: false, video: true }]);
    expect(b.removed).toEqual([]);

    // Unmuting the camera cannot bring an ended track back: still marked off.
    a.media.setMuted(stream, { video: false });
    await new Promise((r) => setTimeout(r, 1500));
    expect(b.updated.length).toBe(1);
    expect(b.removed).toEqual([]);
  }, 30_000);

  it('a stream published with one kind already ended (shared again with a new camera, the mic still unplugged) is announced with it muted from the first word', async () => {
    const [a, b] = await pair(47);
    const announced: boolean[] = [];
    b.room.channel('media').on('message', ({ data }) => {
      const parsed = parseMediaMessage(data);
      if (parsed.ok && parsed.message.t === 'streams') for (const s of parsed.message.streams) announced.push(s.muted.audio);
    });
    const { stream, audio } = cameraAndMic();
    audio.stop();
    a.media.publish(stream, { label: 'camera' });
    await until('b shows the camera', () => b.added.length === 1);
    // The publish's own announcement already says so, not only the check a second later.
    expect(announced[0]).toBe(true);
    expect(b.added[0]!.muted).toEqual({ audio: true, video: false });
    await new Promise((r) => setTimeout(r, 1500));
    expect([b.updated.length, b.removed.length]).toEqual([0, 0]);
  }, 30_000);
});
