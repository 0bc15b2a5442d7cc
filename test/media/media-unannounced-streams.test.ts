/**
 * A stream shows once it is announced and its first track arrived, so a track that
 * arrives first is kept until its announcement. An honest peer announces before it sends
 * (and its next list drops one it stopped sharing meanwhile); a peer that renegotiates
 * tracks of ever new streams and never announces them made us keep every one. Past 16
 * streams waiting for an announcement, a new one is refused as a bad message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RemoteMediaStream } from '../../src/media/index.js';
import { encodeMediaMessage, parseMediaMessage } from '../../src/media/media-wire.js';
import { shareAndRawPeer } from './support/raw-peer.js';
import { until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/**
 * Room `a` with a media share, and a hostile peer `x` negotiating a real wrtc connection
 * with it by hand: `addStreams(n)` renegotiates with n more video sections, each of a new
 * stream, and resolves once a answered (or once the offer is sent, with `wait` false).
 */
async function setup(seed: number) {
  const { a, media, errors, raw } = await shareAndRawPeer(seed, cleanups);
  const added: RemoteMediaStream[] = [];
  media.on('stream-added', (s) => added.push(s));
  const pc = new wrtc.RTCPeerConnection();
  cleanups.push(() => pc.close());
  let answered: (sdp: string) => void = () => {};
  raw.on('message', ({ data }) => {
    const parsed = parseMediaMessage(data);
    if (parsed.ok && parsed.message.t === 'answer') answered(parsed.message.sdp);
  });
  const ids: string[] = [];
  const addStreams = async (n: number, wait = true) => {
    for (let i = 0; i < n; i++) {
      const stream = new wrtc.MediaStream();
      ids.push(stream.id);
      pc.addTransceiver('video', { direction: 'sendonly', streams: [stream] });
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = new Promise<string>((resolve) => (answered = resolve));
    await raw.send('a', encodeMediaMessage({ v: 1, t: 'offer', s: 'x1', to: '', sdp: offer.sdp as string }));
    if (wait) await pc.setRemoteDescription({ type: 'answer', sdp: await answer });
  };
  const announce = (list: string[]) => raw.send('a', encodeMediaMessage({ v: 1, t: 'streams', streams: list.map((id) => ({ id, label: id.slice(0, 8), muted: { audio: false, video: false } })) }));
  return { a, errors, added, ids, addStreams, announce };
}

const REASON = 'more than 16 streams arrived that were not announced';

describe('streams a peer sends and never announces', () => {
  it('are kept up to 16; past that each is refused as a bad message, and 16 of those disconnect the peer', async () => {
    const { a, errors, added, addStreams } = await setup(91);
    await addStreams(8);
    await addStreams(8);
    expect(errors).toEqual([]);
    await addStreams(8);
    await until('8 refused', () => errors.length === 8);
    expect(errors.every((e) => e.code === 'bad-message' && e.detail?.reason === REASON && e.detail?.peer === 'x')).toBe(true);
    expect(a.peers.size).toBe(1);
    await addStreams(8, false); // a disconnects x before its answer goes out
    await until('x disconnected for its bad messages', () => a.peers.size === 0, 10_000);
    expect(errors.filter((e) => e.code === 'bad-message')).toHaveLength(16);
    expect(added).toEqual([]);
  }, 30_000);

  it('only those not announced count, and the next list drops them', async () => {
    const { a, errors, added, ids, addStreams, announce } = await setup(92);
    await addStreams(16);
    await announce(ids.slice(0, 16));
    await until('16 streams shown', () => added.length === 16);
    await addStreams(16);
    expect(errors).toEqual([]);
    await addStreams(1);
    await until('the 17th not announced refused', () => errors.length === 1);
    expect(errors[0]!.detail?.reason).toBe(REASON);
    // The list names none of them: they are forgotten, so new ones are taken again.
    await announce(ids.slice(0, 16));
    await addStreams(16);
    expect(errors).toHaveLength(1);
    expect(a.peers.size).toBe(1);
  }, 30_000);
});
