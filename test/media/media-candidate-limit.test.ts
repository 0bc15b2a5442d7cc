/**
 * Every candidate a peer sends is added to our media connection, and the engine keeps
 * each one and checks connectivity to it (STUN requests to whatever address it names).
 * A connection finds a handful (one per network interface, STUN and TURN server; a few
 * more per ICE restart), so a peer sending hundreds is misbehaving: past 512 on one
 * connection they are refused as bad messages, never added. (The rate across restarts,
 * 256 in a row, would refuse these first: media-candidate-rate.test.ts. It is raised here,
 * for the shares these tests make, so the cap per connection is what they test.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEDIA_LIMITS, encodeMediaMessage } from '../../src/media/media-wire.js';
import { realOffer, shareAndRawPeer, watchedWrtc } from './support/raw-peer.js';
import { until } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
const rate = MEDIA_LIMITS.maxCandidatesInRow;
beforeEach(() => {
  MEDIA_LIMITS.maxCandidatesInRow = 100_000;
});
afterEach(async () => {
  MEDIA_LIMITS.maxCandidatesInRow = rate;
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** Room `a` with a media share counting the candidates added to its connections, and a raw peer `x` that offered. */
async function setup(seed: number) {
  const counts = { added: 0 };
  const engine = watchedWrtc((pc) => {
    const add = pc.addIceCandidate.bind(pc);
    pc.addIceCandidate = ((c: RTCIceCandidateInit) => {
      counts.added++;
      return add(c);
    }) as typeof pc.addIceCandidate;
  });
  const { a, errors, raw, sendOffer } = await shareAndRawPeer(seed, cleanups, engine);
  // A real offer, so a builds a connection for x and takes its candidates.
  const offer = await realOffer();
  await sendOffer(offer);
  const candidate = (i: number) => `candidate:${i} 1 udp 2122260223 10.${(i >> 8) & 255}.${i & 255}.1 ${10_000 + i} typ host generation 0`;
  const send = (i: number) => raw.send('a', encodeMediaMessage({ v: 1, t: 'candidate', s: 'x1', to: '', candidate: candidate(i), sdpMid: '0', sdpMLineIndex: 0 }));
  return { a, counts, errors, offer, sendOffer, send };
}

describe('candidates from one peer', () => {
  it('past 512 on one connection are refused, not added, and disconnect the peer 16 later', async () => {
    const { a, counts, errors, send } = await setup(81);
    for (let i = 0; i < 512; i++) await send(i);
    await until('512 candidates added', () => counts.added === 512);
    expect(errors).toEqual([]);
    for (let i = 512; i < 560 && a.peers.size === 1; i++) await send(i);
    await until('x disconnected', () => a.peers.size === 0, 10_000);
    expect(counts.added).toBe(512);
    const refused = errors.filter((e) => e.code === 'bad-message');
    expect(refused).toHaveLength(16);
    expect(refused[0]!.detail?.reason).toBe('candidate: more than 512 on one connection');
  }, 30_000);

  it('an ICE restart (an offer with new ICE credentials) starts the count again: a long call on a flaky network is not cut off', async () => {
    const { a, counts, errors, offer, sendOffer, send } = await setup(82);
    for (let i = 0; i < 500; i++) await send(i);
    await until('500 candidates added', () => counts.added === 500);
    await sendOffer(offer.replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:rstr').replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:restartedpasswordof24chars'));
    for (let i = 500; i < 1000; i++) await send(i);
    await until('1000 candidates added', () => counts.added === 1000);
    expect(errors).toEqual([]);
    expect(a.peers.size).toBe(1);
  }, 30_000);
});
