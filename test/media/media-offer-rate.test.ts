/**
 * The waiting cap (8 offers and answers) bounds how many of a peer's descriptions wait,
 * not how many it sends one after another: a peer offering again as soon as its last offer
 * was applied kept our engine applying offers and making answers for as long as it liked,
 * and each ICE restart among them made it gather candidates anew. Offers answered on a
 * connection we have with the peer are rated per peer (32 in a row, then one a second; of
 * those ICE restarts 8 in a row, then one every 3 s); the one past that is a bad message,
 * and 16 of those disconnect the peer. An honest peer renegotiating now and then, or
 * several times quickly, stays far inside.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare, type MediaShare } from '../../src/media/index.js';
import { MEDIA_LIMITS } from '../../src/media/media-wire.js';
import { honestCamera, realOffer, shareAndRawPeer, watchedWrtc } from './support/raw-peer.js';
import { frameCounter, syntheticCamera, until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** @roamhq/wrtc counting the offers its connections apply whose SDP has `origin` (its o= line), and all of them. */
function countingOffers() {
  const counts = { offers: 0, marked: 0, origin: '' };
  const engine = watchedWrtc((pc) => {
    const set = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = async (d: RTCSessionDescriptionInit) => {
      if (d.type === 'offer') {
        counts.offers++;
        if (counts.origin !== '' && d.sdp?.includes(counts.origin)) counts.marked++;
      }
      return set(d);
    };
  });
  return { counts, engine };
}

/**
 * Room `a` with a share, a raw peer `x` and the offer it floods with, `x`'s offers applied
 * counted, and its refused offers (`bad-message`): sends `nth(i)` one after another, each once the last
 * was applied or refused, until `x` is disconnected or `max` went out.
 */
async function flood(seed: number, max: number, nth: (offer: string, i: number) => string) {
  const { counts, engine } = countingOffers();
  const setup = await shareAndRawPeer(seed, cleanups, engine);
  const { a, errors, sendOffer } = setup;
  const offer = await realOffer();
  counts.origin = /^o=.*$/m.exec(offer)![0];
  const refused = () => errors.filter((e) => e.code === 'bad-message');
  return {
    ...setup,
    counts,
    refused,
    /** Run the flood; resolves with how long it took, in ms. */
    async run(): Promise<number> {
      const started = Date.now();
      for (let i = 0; i < max && a.peers.has('x'); i++) {
        const before = counts.marked + refused().length;
        await sendOffer(nth(offer, i)).catch(() => undefined);
        await until(`offer ${i} applied or refused`, () => counts.marked + refused().length > before || !a.peers.has('x'));
      }
      await until('x disconnected', () => !a.peers.has('x'), 5_000).catch(() => undefined);
      return Date.now() - started;
    },
  };
}

describe('offers one peer makes us answer on a connection we have with it', () => {
  it('past 32 in a row (then one a second) are refused, the peer is disconnected, and an honest share keeps flowing', async () => {
    const f = await flood(111, 120, (offer) => offer);
    const frames = await honestCamera(f, cleanups);
    const ms = await f.run();

    expect(f.a.peers.has('x')).toBe(false);
    const refused = f.refused();
    expect(refused).toHaveLength(16);
    expect(refused.every((e) => e.detail?.peer === 'x' && e.detail?.reason === `offer: more than ${MEDIA_LIMITS.maxOffers} offers in a row`)).toBe(true);
    // The first is x's new connection; then 32 in a row and one per second the flood took.
    expect(f.counts.marked).toBeGreaterThanOrEqual(1 + MEDIA_LIMITS.maxOffers);
    expect(f.counts.marked).toBeLessThanOrEqual(1 + MEDIA_LIMITS.maxOffers + Math.ceil(ms / MEDIA_LIMITS.offerRefillMs));

    // b was never refused anything, and its camera still reaches a.
    expect(f.errors.filter((e) => e.detail?.peer !== 'x')).toEqual([]);
    expect(f.a.peers.has('b')).toBe(true);
    const after = frames.frames();
    await until("b's frames at a after the flood", () => frames.frames() >= after + 10);
  }, 90_000);

  it('past 8 ICE restarts in a row (then one every 3 s) are refused, and the peer is disconnected', async () => {
    // Each offer after the first carries new ICE credentials: an ICE restart.
    const restart = (offer: string, i: number) => {
      const n = String(i).padStart(4, '0');
      return i === 0 ? offer : offer.replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:r${n}`).replace(/a=ice-pwd:\S+/g, `a=ice-pwd:restartedpassword${n}xyz`);
    };
    const f = await flood(112, 60, restart);
    const ms = await f.run();

    expect(f.a.peers.has('x')).toBe(false);
    const refused = f.refused();
    expect(refused).toHaveLength(16);
    expect(refused.every((e) => e.detail?.reason === `offer: more than ${MEDIA_LIMITS.maxIceRestarts} ICE restarts in a row`)).toBe(true);
    // Far inside the offers' 32: only the ICE restarts' own rate stops these.
    expect(f.counts.marked).toBeGreaterThanOrEqual(1 + MEDIA_LIMITS.maxIceRestarts);
    expect(f.counts.marked).toBeLessThanOrEqual(1 + MEDIA_LIMITS.maxIceRestarts + Math.ceil(ms / MEDIA_LIMITS.iceRestartRefillMs));
  }, 60_000);
});

describe('honest renegotiation', () => {
  it('streams published and stopped several times quickly on both sides are all answered, far inside the rate, while another peer floods and is cut off', async () => {
    const f = await flood(113, 120, (offer) => offer);
    const { a, media, net, errors, counts } = f;
    const b = net.join('call', { peerId: 'b' });
    const mediaB = createMediaShare(b, { wrtc, logger: silentLogger() });
    mediaB.on('error', (e) => errors.push(e));
    cleanups.push(async () => {
      mediaB.destroy();
      await b.leave();
    });
    await until('b in the room', () => a.peers.has('b') && b.peers.has('a'));

    // x's flood runs alongside b's first changes: its allowance is its own, and b's offers
    // are never refused for it. (a shares nothing with x meanwhile: with an offer of a's
    // unanswered, x's crossing offers would be ignored, neither applied nor refused.)
    const flooding = f.run();
    // b adds a camera and drops its oldest, six times quickly, while a shares one too (offers may cross).
    const renegotiate = async () => {
      const shared: Array<() => void> = [];
      for (let i = 0; i < 6; i++) {
        const camera = syntheticCamera();
        cleanups.push(camera.stop);
        shared.push(mediaB.publish(camera.stream, { label: `cam${i}` }));
        if (shared.length > 2) shared.shift()!();
        if (i === 1) {
          await flooding;
          const own = syntheticCamera();
          cleanups.push(own.stop);
          media.publish(own.stream, { label: 'a-cam' });
        }
        await new Promise((r) => setTimeout(r, 30 * (i % 3)));
      }
    };
    await Promise.all([flooding, renegotiate()]);

    const labels = (m: MediaShare) => m.remoteStreams().map((s) => s.label).sort();
    await until("b's last two cameras at a, a's at b", () => labels(media).join() === 'cam4,cam5' && labels(mediaB).join() === 'a-cam', 20_000);
    for (const remote of media.remoteStreams()) {
      const frames = frameCounter(remote.stream);
      cleanups.push(frames.stop);
      await until(`frames of ${remote.label} at a`, () => frames.frames() >= 3);
    }
    expect(a.peers.has('x')).toBe(false);
    expect(errors.filter((e) => e.detail?.peer !== 'x')).toEqual([]);
    expect(a.peers.has('b')).toBe(true);
    // Headroom: honest bursts like this one use under half of what a peer may send in a row.
    const fromB = counts.offers - counts.marked;
    expect(fromB).toBeGreaterThan(1);
    expect(fromB).toBeLessThanOrEqual(MEDIA_LIMITS.maxOffers / 2);
  }, 90_000);
});
