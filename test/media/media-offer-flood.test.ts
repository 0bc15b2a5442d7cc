/**
 * A peer's offers and answers on one media connection are applied one at a time, each
 * awaiting the engine; the ones behind wait in the connection's queue. An honest peer
 * offers only from a stable state, so it has three waiting at most; a peer sending
 * a burst of offers would otherwise make us hold every one (up to 128 KiB each) and run
 * setRemoteDescription and an answer on each. Past 8 waiting (or 1 MiB) they are refused
 * as bad messages, never queued, and 16 of those disconnect the peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MEDIA_LIMITS, encodeMediaMessage } from '../../src/media/media-wire.js';
import { realOffer, shareAndRawPeer, watchedWrtc } from './support/raw-peer.js';
import { until } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** Room `a` with a media share whose connections count the peer's descriptions they apply, and a raw peer `x`. */
async function setup(seed: number) {
  const counts = { applied: 0 };
  // Each call is one description taken off the queue; the engine's work is what a flood costs.
  const engine = watchedWrtc((pc) => {
    const set = pc.setRemoteDescription.bind(pc);
    pc.setRemoteDescription = async (d: RTCSessionDescriptionInit) => {
      counts.applied++;
      return set(d);
    };
  });
  const { a, errors, raw, sendOffer: send } = await shareAndRawPeer(seed, cleanups, engine);
  const offer = await realOffer();
  const sendOffer = (sdp = offer) => send(sdp);
  const sendCandidate = (candidate: string) => raw.send('a', encodeMediaMessage({ v: 1, t: 'candidate', s: 'x1', to: '', candidate, sdpMid: '0', sdpMLineIndex: 0 }));
  return { a, counts, errors, offer, sendOffer, sendCandidate };
}

describe('offers from one peer waiting on a media connection', () => {
  it('past 8 waiting are refused, not queued, and a burst disconnects the peer', async () => {
    const { a, counts, errors, sendOffer } = await setup(91);
    // Sent at once: they all reach a while its engine still works on the first.
    const burst = 64;
    await Promise.all(Array.from({ length: burst }, () => sendOffer().catch(() => undefined)));
    // Unbounded, every offer is queued and applied and x stays.
    await until('x disconnected or every offer applied', () => a.peers.size === 0 || counts.applied === burst, 20_000);
    expect(a.peers.size).toBe(0);
    const refused = errors.filter((e) => e.code === 'bad-message');
    expect(refused.length).toBeGreaterThanOrEqual(16);
    expect(refused[0]!.detail?.reason).toBe(`offer: more than ${MEDIA_LIMITS.maxWaitingDescriptions} offers and answers waiting on one connection`);
    // Only what was let into the queue reached the engine; unbounded, every offer would.
    expect(counts.applied).toBeLessThanOrEqual(burst - refused.length);
    expect(counts.applied).toBeLessThan(burst / 2);
  }, 40_000);

  it('past 1 MiB waiting (large offers and candidates) the rest are refused, not queued', async () => {
    const { a, counts, errors, offer, sendOffer, sendCandidate } = await setup(93);
    // Offers near the 128 KiB message limit: 8 of them and a few candidates fill 1 MiB.
    const large = offer + `a=x-pad:${'p'.repeat(120 * 1024)}\r\n`;
    const candidate = (i: number) => `candidate:${i} 1 udp 2122260223 10.0.${i & 255}.1 ${10_000 + i} typ host generation 0 ${'x'.repeat(1900)}`;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 8; i++) sends.push(sendOffer(large));
    for (let i = 0; i < 200; i++) sends.push(sendCandidate(candidate(i)));
    await Promise.all(sends.map((p) => p.catch(() => undefined)));
    await until('x disconnected or every message applied', () => a.peers.size === 0 || counts.applied === 8, 20_000);
    expect(a.peers.size).toBe(0);
    const refused = errors.filter((e) => e.code === 'bad-message');
    expect(refused[0]!.detail?.reason).toBe(`candidate: more than ${MEDIA_LIMITS.maxWaitingBytes} bytes of messages waiting on one connection`);
  }, 40_000);

  it('offers sent one after another, each once the last is applied, are all answered', async () => {
    const { a, counts, errors, sendOffer } = await setup(92);
    for (let i = 1; i <= 24; i++) {
      await sendOffer();
      await until(`offer ${i} applied`, () => counts.applied === i);
    }
    expect(errors).toEqual([]);
    expect(a.peers.size).toBe(1);
  }, 60_000);
});
