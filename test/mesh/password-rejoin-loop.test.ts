/**
 * A peer with another room password that leaves and rejoins the relay room in a loop.
 * The room key is derived once per room (never per signal or per peer), and a signal
 * that does not decrypt costs one AES-GCM attempt; but its departure made us forget the
 * mismatch, so on each rejoin the side that offers built a new connection (a WebRTC
 * peer connection, candidates gathered) and sealed an offer, only for the answer to
 * fail again. The mismatch is now remembered by id: after one, that id is not offered
 * to for 1 s, doubling per mismatch in a row.
 */
import { describe, expect, it } from 'vitest';
import { createMesh } from '../../src/mesh/create-mesh.js';
import { shouldInitiate } from '../../src/mesh/glare.js';
import type { Logger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { ManualClock } from '../../src/util/clock.js';
import { waitFor } from '../support/net.js';

/** Base64url of bytes sealed under no key of ours: it never decrypts. */
const GARBAGE = 'bm90LWEtcmVhbC1jaXBoZXJ0ZXh0LWZvci10aGlzLWtleQ';

describe('a peer with another password rejoining in a loop', () => {
  it('makes us build a connection to it only once per growing wait, and one with the right password still connects', async () => {
    expect(shouldInitiate('m', 'e')).toBe(true); // m offers to e: every rejoin of e would cost m a connection
    const net = createMemoryNetwork({ clock: new ManualClock() });
    const created: string[] = [];
    let mismatches = 0;
    const logger: Logger = { debug() {}, warn: (message) => void (message.includes('different room password') && mismatches++) };
    const factory = net.wire.factory('m');
    const m = createMesh({
      room: 'r',
      password: 'right',
      clock: net.clock,
      logger,
      farewellTimeoutMs: 0,
      signaling: net.relay.client('r', 'm'),
      transports: { create: (o) => (created.push(o.remoteId), factory.create(o)) },
    });
    await net.advance(10);
    for (let i = 0; i < 10; i++) {
      // The intruder answers every sealed signal with one that does not decrypt.
      const intruder = net.relay.client('r', 'e');
      intruder.on('signal', ({ data }) => typeof data === 'string' && intruder.sendSignal('m', GARBAGE));
      intruder.join();
      await net.advance(100);
      // Decryption runs outside the simulated clock: wait for each offer's failure.
      await waitFor(() => mismatches === created.length, 'the offer answered and refused');
      intruder.close();
      await net.advance(100);
    }
    // 10 rejoins over 2 s: offered to at the first, and again only once the 1 s wait had passed.
    expect(created.length).toBe(2);
    // Once the wait (now 2 s) has passed, a peer under that id with the right password connects.
    await net.advance(2000);
    const e = net.join('r', { peerId: 'e', password: 'right' });
    await net.advance(100);
    await waitFor(async () => (await net.advance(100), m.peers.has('e')), 'm and e connected');
    await Promise.all([m.leave(), e.leave()]);
  });
});
