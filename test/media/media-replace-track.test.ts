/**
 * Switching a camera or mic in a call (`media.replaceTrack`), over real @roamhq/wrtc:
 * the peers keep the stream and track they show and start getting the new frames, with
 * no offer made on any connection (a re-publish would renegotiate with every peer); a
 * peer joining later gets the new track; the muted state carries over; an ended old
 * track (an unplugged camera) can be replaced, and its kind is unmarked at the peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork, type MemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { until, videoFeed, wrtc } from './support/wrtc-media.js';
import { mediaMember, type MediaMember } from './support/media-member.js';
import { watchedWrtc } from './support/raw-peer.js';

let net: MemoryNetwork;
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** Descriptions set (offer, answer, rollback) and ICE restarts, over every connection one member made. */
interface Negotiations {
  descriptions: number;
  iceRestarts: number;
}

/** wrtc whose connections count what they negotiate; `refuseReplace` makes every sender's replaceTrack reject. */
function countingWrtc(counts: Negotiations, refuseReplace = false): typeof wrtc {
  // `nonstandard` kept, so the media share still treats it as wrtc (wrtc-descriptions.ts).
  return watchedWrtc((pc) => {
    const setLocal = pc.setLocalDescription.bind(pc);
    pc.setLocalDescription = (d?: RTCLocalSessionDescriptionInit) => {
      counts.descriptions++;
      return setLocal(d);
    };
    const setRemote = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = (d: RTCSessionDescriptionInit) => {
      counts.descriptions++;
      return setRemote(d);
    };
    const restart = pc.restartIce?.bind(pc);
    if (restart) pc.restartIce = () => (counts.iceRestarts++, restart());
    if (refuseReplace) {
      const add = pc.addTransceiver.bind(pc);
      pc.addTransceiver = (...args: Parameters<RTCPeerConnection['addTransceiver']>) => {
        const t = add(...args);
        // wrtc's senders have it read-only: defined over, on this sender alone.
        Object.defineProperty(t.sender, 'replaceTrack', { value: () => Promise.reject(new Error('refused by this engine')) });
        return t;
      };
    }
  });
}

interface Member extends MediaMember {
  counts: Negotiations;
}

function member(id: string, o: { refuseReplace?: boolean } = {}): Member {
  const counts = { descriptions: 0, iceRestarts: 0 };
  return { ...mediaMember(net, id, cleanups, countingWrtc(counts, o.refuseReplace)), counts };
}

/** A camera of one flat grey (`luma` 0–255) at `width`×3/4: tells the two cameras apart at the receiver. */
function flatCamera(width: number, luma: number): MediaStreamTrack {
  const height = (width * 3) / 4;
  const data = new Uint8ClampedArray(width * height * 1.5).fill(128); // chroma: grey
  data.fill(luma, 0, width * height);
  const { track, stop } = videoFeed(width, height, data);
  cleanups.push(stop);
  return track;
}

function microphone(): MediaStreamTrack {
  const source = new wrtc.nonstandard.RTCAudioSource();
  const track = source.createTrack() as MediaStreamTrack;
  const samples = new Int16Array(480);
  const timer = setInterval(() => source.onData({ samples, sampleRate: 48_000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 }), 10);
  cleanups.push(() => {
    clearInterval(timer);
    track.stop();
  });
  return track;
}

/** The last frame a receiver got of `stream`'s video: its width and mean luma. */
function lastFrame(stream: MediaStream): () => { width: number; luma: number; frames: number } {
  const sink = new wrtc.nonstandard.RTCVideoSink(stream.getVideoTracks()[0]);
  let seen = { width: 0, luma: 0, frames: 0 };
  sink.onframe = ({ frame }: { frame: { width: number; height: number; data: Uint8Array } }) => {
    const pixels = frame.width * frame.height;
    let sum = 0;
    for (let i = 0; i < pixels; i += 7) sum += frame.data[i]!;
    seen = { width: frame.width, luma: sum / Math.ceil(pixels / 7), frames: seen.frames + 1 };
  };
  cleanups.push(() => sink.stop());
  return () => seen;
}

const showsOld = (f: { width: number; luma: number }) => f.width === 160 && Math.abs(f.luma - 40) < 15;
const showsNew = (f: { width: number; luma: number }) => f.width === 320 && Math.abs(f.luma - 200) < 15;

describe('media.replaceTrack', () => {
  it('switches the camera for every peer with no offer: same stream and track there, new frames; a later peer gets the new camera', async () => {
    net = createMemoryNetwork({ seed: 51, mesh: { logger: silentLogger() } });
    const [a, b, c] = ['a', 'b', 'c'].map((id) => member(id)) as [Member, Member, Member];
    await until('the mesh', () => [a, b, c].every((m) => m.room.peers.size === 2));
    const oldCam = flatCamera(160, 40);
    const stream = new wrtc.MediaStream([oldCam]) as MediaStream;
    a.media.publish(stream, { label: 'camera', maxBitrate: 300_000 });
    await until('b and c show a’s camera', () => b.added.length === 1 && c.added.length === 1);
    const watch = [b, c].map((m) => ({ m, stream: m.added[0]!.stream, trackId: m.added[0]!.stream.getVideoTracks()[0]!.id, frame: lastFrame(m.added[0]!.stream) }));
    await until('the old camera’s frames at b and c', () => watch.every((w) => showsOld(w.frame())));
    const before = [a, b, c].map((m) => ({ ...m.counts }));

    const newCam = flatCamera(320, 200);
    await a.media.replaceTrack(stream, oldCam, newCam);
    expect(stream.getTracks()).toEqual([newCam]); // the local preview follows
    await until('the new camera’s frames at b and c', () => watch.every((w) => showsNew(w.frame())));
    for (const w of watch) {
      expect(w.m.media.remoteStreams().map((s) => s.stream)).toEqual([w.stream]);
      expect(w.stream.getVideoTracks().map((t) => t.id)).toEqual([w.trackId]);
      expect([w.m.added.length, w.m.updated.length, w.m.removed.length]).toEqual([1, 0, 0]);
    }
    // Not one description set, on either end, nor an ICE restart: no renegotiation at all.
    expect([a, b, c].map((m) => ({ ...m.counts }))).toEqual(before);
    // The old camera is no longer sent: stopping it leaves the stream shared.
    oldCam.stop();

    const late = member('late');
    await until('late joiner shows a’s camera', () => late.added.length === 1);
    const lateFrame = lastFrame(late.added[0]!.stream);
    await until('the new camera’s frames at the late joiner', () => showsNew(lateFrame()));
    expect(late.added[0]).toMatchObject({ peerId: 'a', label: 'camera' });
    expect([...a.errors, ...b.errors, ...c.errors, ...late.errors]).toEqual([]);
  }, 40_000);

  it('switched right after publish (nothing negotiated yet) and again without waiting: the peers get the last camera, the stream once', async () => {
    net = createMemoryNetwork({ seed: 56, latencyMs: 20, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map((id) => member(id)) as [Member, Member];
    await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
    const first = flatCamera(160, 40);
    const stream = new wrtc.MediaStream([first]) as MediaStream;
    a.media.publish(stream, { label: 'camera' });
    const second = flatCamera(160, 120);
    const third = flatCamera(320, 200);
    const switched = [a.media.replaceTrack(stream, first, second), a.media.replaceTrack(stream, second, third)];
    await Promise.all(switched);
    await until('b shows a’s camera', () => b.added.length === 1);
    const frame = lastFrame(b.added[0]!.stream);
    await until('the third camera’s frames at b', () => showsNew(frame()));
    expect(stream.getTracks()).toEqual([third]);
    expect([b.added.length, b.removed.length]).toEqual([1, 0]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  }, 30_000);

  it('keeps the muted state: a muted camera switched stays muted, and the peers are told nothing new', async () => {
    net = createMemoryNetwork({ seed: 52, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map((id) => member(id)) as [Member, Member];
    await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
    const oldCam = flatCamera(160, 40);
    const mic = microphone();
    const stream = new wrtc.MediaStream([oldCam, mic]) as MediaStream;
    a.media.publish(stream, { label: 'camera' });
    a.media.setMuted(stream, { video: true });
    await until('b shows a’s camera, video muted', () => b.added.length === 1 && b.media.remoteStreams()[0]?.muted.video === true);
    const newCam = flatCamera(320, 200);
    await a.media.replaceTrack(stream, oldCam, newCam);
    expect(newCam.enabled).toBe(false);
    expect(mic.enabled).toBe(true);
    a.media.setMuted(stream, { video: false });
    expect(newCam.enabled).toBe(true);
    await until('b unmarks the camera', () => b.updated.length === 1);
    expect(b.updated[0]!.muted).toEqual({ audio: false, video: false });
    const frame = lastFrame(b.added[0]!.stream);
    await until('the new camera’s frames at b', () => showsNew(frame()));
    expect(b.removed).toEqual([]);
  }, 30_000);

  it('an ended camera (unplugged) replaced by another: the peers unmark it and get the new frames, the stream stays', async () => {
    net = createMemoryNetwork({ seed: 53, mesh: { logger: silentLogger() } });
    const [a, b] = ['a', 'b'].map((id) => member(id)) as [Member, Member];
    await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
    const oldCam = flatCamera(160, 40);
    const stream = new wrtc.MediaStream([oldCam, microphone()]) as MediaStream;
    a.media.publish(stream, { label: 'camera' });
    await until('b shows a’s camera', () => b.added.length === 1);
    oldCam.stop();
    await until('b marks the camera off', () => b.updated.length === 1);
    expect(b.updated[0]!.muted).toEqual({ audio: false, video: true });

    await a.media.replaceTrack(stream, oldCam, flatCamera(320, 200));
    await until('b unmarks the camera', () => b.updated.length === 2);
    expect(b.updated[1]!.muted).toEqual({ audio: false, video: false });
    const frame = lastFrame(b.added[0]!.stream);
    await until('the new camera’s frames at b', () => showsNew(frame()));
    expect([b.added.length, b.removed.length]).toEqual([1, 0]);
    expect(b.media.remoteStreams().map((s) => s.muted)).toEqual([{ audio: false, video: false }]);
  }, 30_000);

  it('refuses with bad-argument what it cannot switch in place; closed after destroy()', async () => {
    net = createMemoryNetwork({ seed: 54, mesh: { logger: silentLogger() } });
    const [a] = [member('a')];
    const cam = flatCamera(160, 40);
    const mic = microphone();
    const stream = new wrtc.MediaStream([cam, mic]) as MediaStream;
    a.media.publish(stream, { label: 'camera' });
    const other = flatCamera(320, 200);
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as MeshpartyError).code;
      }
      return 'no throw';
    };
    const ended = flatCamera(160, 10);
    ended.stop();
    const unpublished = new wrtc.MediaStream([other]) as MediaStream;
    const [left, right] = [flatCamera(160, 40), flatCamera(160, 80)];
    const twoCameras = new wrtc.MediaStream([left, right]) as MediaStream;
    a.media.publish(twoCameras, { label: 'two cameras' });
    expect({
      otherKind: codeOf(() => a.media.replaceTrack(stream, cam, microphone())),
      notPublished: codeOf(() => a.media.replaceTrack(unpublished, other, flatCamera(160, 40))),
      oldNotShared: codeOf(() => a.media.replaceTrack(stream, other, flatCamera(160, 40))),
      newEnded: codeOf(() => a.media.replaceTrack(stream, cam, ended)),
      alreadyShared: codeOf(() => a.media.replaceTrack(twoCameras, left, right)),
      sharedElsewhere: codeOf(() => a.media.replaceTrack(stream, cam, left)),
      notATrack: codeOf(() => a.media.replaceTrack(stream, cam, null as unknown as MediaStreamTrack)),
    }).toEqual({ otherKind: 'bad-argument', notPublished: 'bad-argument', oldNotShared: 'bad-argument', newEnded: 'bad-argument', alreadyShared: 'bad-argument', sharedElsewhere: 'bad-argument', notATrack: 'bad-argument' });
    // Nothing refused changed the stream; the same track again is nothing to do.
    expect(stream.getTracks()).toEqual([cam, mic]);
    await expect(a.media.replaceTrack(stream, cam, cam)).resolves.toBeUndefined();
    a.media.destroy();
    expect(codeOf(() => a.media.replaceTrack(stream, cam, other))).toBe('closed');
  });

  it('an engine refusing the switch for a peer is an error event naming it (media-negotiation-failed), not a throw', async () => {
    net = createMemoryNetwork({ seed: 55, mesh: { logger: silentLogger() } });
    const a = member('a', { refuseReplace: true });
    const b = member('b');
    await until('the mesh', () => a.room.peers.size === 1 && b.room.peers.size === 1);
    const cam = flatCamera(160, 40);
    const stream = new wrtc.MediaStream([cam]) as MediaStream;
    a.media.publish(stream, { label: 'camera' });
    await until('b shows a’s camera', () => b.added.length === 1);
    await a.media.replaceTrack(stream, cam, flatCamera(320, 200));
    expect(a.errors.map((e) => [e.code, e.detail?.peer])).toEqual([['media-negotiation-failed', 'b']]);
  }, 30_000);
});
