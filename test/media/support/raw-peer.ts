/**
 * A media share in room `a` and a peer `x` that speaks the media wire by hand (no share
 * of its own): how the tests of hostile peers (floods of offers, candidates, streams,
 * connections) talk to a real share over a real @roamhq/wrtc engine.
 */
import { createMemoryNetwork, type MemoryNetwork } from '../../../src/mesh/memory-network.js';
import { silentLogger } from '../../../src/mesh/logger.js';
import type { Channel, Room } from '../../../src/mesh/types.js';
import { createMediaShare, type MediaShare, type RemoteMediaStream } from '../../../src/media/index.js';
import { encodeMediaMessage } from '../../../src/media/media-wire.js';
import type { MeshpartyError } from '../../../src/util/errors.js';
import { frameCounter, syntheticCamera, until, wrtc } from './wrtc-media.js';

export interface ShareAndRawPeer {
  /** The network both joined (for an honest peer to join too). */
  net: MemoryNetwork;
  a: Room;
  x: Room;
  media: MediaShare;
  /** Every `error` the share emitted. */
  errors: MeshpartyError[];
  /** x's end of the media channel. */
  raw: Channel;
  /** Send one offer from x on its session `s` (default `x1`). */
  sendOffer(sdp: string, s?: string): Promise<void>;
}

/**
 * Room `a` with a media share on `engine` (default @roamhq/wrtc), and a raw peer `x`
 * connected to it; `cleanups` gets what ends both.
 *
 * @example
 * ```ts
 * const { a, errors, sendOffer } = await shareAndRawPeer(81, cleanups);
 * await sendOffer(await realOffer());
 * ```
 */
export async function shareAndRawPeer(seed: number, cleanups: Array<() => unknown>, engine: typeof wrtc = wrtc): Promise<ShareAndRawPeer> {
  // No mesh strike limit: the share's own limits are what these tests count; the mesh
  // would cut the raw peer off at maxStrikes (10) bad messages first (media-strikes.test).
  const net = createMemoryNetwork({ seed, mesh: { logger: silentLogger(), maxStrikes: Infinity } });
  const a = net.join('call', { peerId: 'a' });
  const media = createMediaShare(a, { wrtc: engine, logger: silentLogger() });
  const errors: MeshpartyError[] = [];
  media.on('error', (e) => errors.push(e));
  const x = net.join('call', { peerId: 'x' });
  cleanups.push(async () => {
    media.destroy();
    await x.leave();
    await a.leave();
  });
  await until('the mesh', () => a.peers.size === 1 && x.peers.size === 1);
  const raw = x.channel('media');
  const sendOffer = (sdp: string, s = 'x1') => raw.send('a', encodeMediaMessage({ v: 1, t: 'offer', s, to: '', sdp }));
  return { net, a, x, media, errors, raw, sendOffer };
}

/**
 * @roamhq/wrtc (or `base`, another engine made from it) whose every RTCPeerConnection is
 * first handed to `watch` (to count or wrap its calls).
 *
 * @example
 * ```ts
 * let made = 0;
 * const engine = watchedWrtc(() => made++);
 * ```
 */
export function watchedWrtc(watch: (pc: RTCPeerConnection) => void, base: typeof wrtc = wrtc): typeof wrtc {
  function RTCPeerConnection(config?: RTCConfiguration) {
    const pc = new base.RTCPeerConnection(config);
    watch(pc);
    return pc;
  }
  return { ...base, RTCPeerConnection };
}

/**
 * An honest peer `b` on `a`'s network sharing a camera, shown at `a` with frames arriving;
 * resolves with the counter of those frames. `cleanups` gets what ends it.
 *
 * @example
 * ```ts
 * const frames = await honestCamera(await shareAndRawPeer(111, cleanups), cleanups);
 * ```
 */
export async function honestCamera(setup: { net: MemoryNetwork; a: Room; media: MediaShare }, cleanups: Array<() => unknown>): Promise<ReturnType<typeof frameCounter>> {
  const b = setup.net.join('call', { peerId: 'b' });
  const mediaB = createMediaShare(b, { wrtc, logger: silentLogger() });
  const camera = syntheticCamera();
  cleanups.push(async () => {
    camera.stop();
    mediaB.destroy();
    await b.leave();
  });
  const shown: RemoteMediaStream[] = [];
  setup.media.on('stream-added', (s) => shown.push(s));
  await until('b in the room', () => setup.a.peers.has('b'));
  mediaB.publish(camera.stream, { label: 'camera' });
  await until("b's camera at a", () => shown.length === 1);
  const frames = frameCounter(shown[0]!.stream);
  cleanups.push(frames.stop);
  await until("b's frames at a", () => frames.frames() >= 5);
  return frames;
}

/** A real offer (one video section) from a throwaway connection. */
export async function realOffer(): Promise<string> {
  const pc = new wrtc.RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'sendonly' });
  const offer = await pc.createOffer();
  pc.close();
  return offer.sdp as string;
}
