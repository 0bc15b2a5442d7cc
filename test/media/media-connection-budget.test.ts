/**
 * Each offer a peer sends on a new media session makes us build an RTCPeerConnection
 * (the old one closed): after `bye`, or with a session id we have not seen ("the peer
 * started a new connection: follow it"). `hello` was limited to 8 per stay, but a peer
 * could skip it and make us build connection after connection with valid offers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMediaMessage } from '../../src/media/media-wire.js';
import { realOffer, shareAndRawPeer, watchedWrtc } from './support/raw-peer.js';
import { until } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

describe('media connections a peer makes us build', () => {
  it('offers on ever new sessions (with or without bye) stop building connections past the budget and count as bad messages', async () => {
    let made = 0;
    const { a, errors, raw } = await shareAndRawPeer(61, cleanups, watchedWrtc(() => made++));
    const sdp = await realOffer();
    for (let i = 0; i < 80 && a.peers.size === 1; i++) {
      if (i % 2 === 1) await raw.send('a', encodeMediaMessage({ v: 1, t: 'bye' }));
      await raw.send('a', encodeMediaMessage({ v: 1, t: 'offer', s: `session${i}`, to: '', sdp }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until('x disconnected for its bad messages', () => a.peers.size === 0, 10_000);
    // The first offers are answered, as a peer restarting its share would be; then no more.
    expect(made).toBeGreaterThanOrEqual(8);
    // 36 in a row, then one every 2.5 s: a slow run may get one or two more.
    expect(made).toBeLessThanOrEqual(38);
    const refused = errors.filter((e) => e.code === 'bad-message');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.detail?.reason).toBe('more than 36 media connections asked for in a row');
  }, 30_000);
});
