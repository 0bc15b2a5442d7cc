/**
 * Each offer a peer sends on a new media session makes us build an RTCPeerConnection
 * (the old one closed): after `bye`, or with a session id we have not seen ("the peer
 * started a new connection: follow it"). `hello` was limited to 8 per stay, but a peer
 * could skip it and make us build connection after connection with valid offers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMediaShare } from '../../src/media/index.js';
import { encodeMediaMessage } from '../../src/media/media-wire.js';
import type { MeshpartyError } from '../../src/util/errors.js';
import { until, wrtc } from './support/wrtc-media.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

/** @roamhq/wrtc, counting the RTCPeerConnections made with it. */
function countingWrtc(): { impl: typeof wrtc; made: () => number } {
  let made = 0;
  class Counted extends wrtc.RTCPeerConnection {
    constructor(config?: RTCConfiguration) {
      super(config);
      made++;
    }
  }
  return { impl: { ...wrtc, RTCPeerConnection: Counted }, made: () => made };
}

/** A real offer (one video section) from a throwaway connection. */
async function realOffer(): Promise<string> {
  const pc = new wrtc.RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'sendonly' });
  const offer = await pc.createOffer();
  pc.close();
  return offer.sdp as string;
}

describe('media connections a peer makes us build', () => {
  it('offers on ever new sessions (with or without bye) stop building connections past the budget and count as bad messages', async () => {
    const net = createMemoryNetwork({ seed: 61, mesh: { logger: silentLogger() } });
    const counting = countingWrtc();
    const a = net.join('call', { peerId: 'a' });
    const media = createMediaShare(a, { wrtc: counting.impl, logger: silentLogger() });
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
    const sdp = await realOffer();
    for (let i = 0; i < 80 && a.peers.size === 1; i++) {
      if (i % 2 === 1) await raw.send('a', encodeMediaMessage({ v: 1, t: 'bye' }));
      await raw.send('a', encodeMediaMessage({ v: 1, t: 'offer', s: `session${i}`, to: '', sdp }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until('x disconnected for its bad messages', () => a.peers.size === 0, 10_000);
    // The first offers are answered, as a peer restarting its share would be; then no more.
    expect(counting.made()).toBeGreaterThanOrEqual(8);
    // 36 in a row, then one every 2.5 s: a slow run may get one or two more.
    expect(counting.made()).toBeLessThanOrEqual(38);
    const refused = errors.filter((e) => e.code === 'bad-message');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.detail?.reason).toBe('more than 36 media connections asked for in a row');
  }, 30_000);
});
