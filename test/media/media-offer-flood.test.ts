/**
 * A peer's offers and answers on one media connection are applied one at a time, each
 * awaiting the engine; the ones behind wait in the connection's queue. An honest peer
 * offers only from a stable state, so it has three waiting at most; a peer sending
 * a burst of offers would otherwise make us hold every one (up to 128 KiB each) and run
 * setRemoteDescription and an answer on each. Past 8 waiting (or 1 MiB) they are refused
 * as bad messages, never queued, and 16 of those disconnect the peer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare } from '../../src/media/index.js';
import { MEDIA_LIMITS, encodeMediaMessage } from '../../src/media/media-wire.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** Room `a` with a media share whose connections count the peer's descriptions they apply, and a raw peer `x`. */
async function setup(seed: number) {
  const net = createMemoryNetwork({ seed, mesh: { logger: silentLogger() } });
  const counts = { applied: 0 };
  function RTCPeerConnection(config?: RTCConfiguration) {
    const pc = new wrtc.RTCPeerConnection(config);
    const set = pc.setRemoteDescription.bind(pc);
    // Each call is one description taken off the queue; the engine's work is what a flood costs.
    pc.setRemoteDescription = async (d: RTCSessionDescriptionInit) => {
      counts.applied++;
      return set(d);
    };
    return pc;
  }
  const a = net.join('call', { peerId: 'a' });
  const media = createMediaShare(a, { wrtc: { ...wrtc, RTCPeerConnection }, logger: silentLogger() });
  const errors: MeshpartyError[] = [];
  media.on('error', (e) => errors.push(e));
  const x = net.join('call', { peerId: 'x' });
  cleanups.push(async () => {
    media.destroy();
    await x.leave();
    await a.leave();
  });
  await until('the mesh', () => a.peers.size === 1 && x.peers.size === 1);
  const pc = new wrtc.RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'sendonly' });
  const offer = (await pc.createOffer()).sdp as string;
  pc.close();
  const raw = x.channel('media');
  const sendOffer = (sdp = offer) => raw.send('a', encodeMediaMessage({ v: 1, t: 'offer', s: 'x1', to: '', sdp }));
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
