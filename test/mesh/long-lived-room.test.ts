/**
 * A mesh member that stays while 2,000 others come and go, one at a time, by every way a
 * peer can go: a goodbye, a crash (no goodbye, gone from the relay), a relay kick, a link
 * that dies without the relay noticing. Afterwards it must hold what its current peer
 * needs and no more: no timer of a gone peer (retries, connect timeouts, probes) is left
 * running, and a newcomer still connects.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { ManualClock } from '../../src/util/clock.js';

describe('a room that stays open while peers come and go', () => {
  for (const self of ['m', '0']) {
    it(`2,000 visitors later, member ${self} (initiator of ${self === '0' ? 'every' : 'half the'} connections) has no timer of theirs left`, async () => {
      const clock = new ManualClock();
      const net = createMemoryNetwork({ seed: 9, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
      const a = net.join('r', { peerId: self });
      const k = net.join('r', { peerId: 'k' });
      await net.advance(1000);
      // What a room of two runs (heartbeat loops, the connection's keepalive), at its most
      // over a few heartbeats: the count moves with their phase.
      const mostPending = async () => {
        let most = 0;
        for (let t = 0; t < 50; t++) {
          await net.advance(100);
          most = Math.max(most, clock.pending);
        }
        return most;
      };
      await net.advance(60_000); // past what a new connection runs at first
      const baseline = await mostPending();
      for (let i = 0; i < 2000; i++) {
        const id = `${i % 2 ? 'a' : 'z'}${i}`;
        const visitor = net.join('r', { peerId: id });
        await net.advance(300);
        expect(a.peers.has(id)).toBe(true);
        a.strike!(id, 'one bad message'); // a record in the conduct book (bounded at 1,000)
        const how = i % 4;
        if (how === 0) await visitor.leave();
        else if (how === 1) {
          net.disconnect(id);
          await net.advance(20_000);
          void visitor.leave();
        } else if (how === 2) {
          net.relay.kick(id);
          await net.advance(50);
          await visitor.leave();
        } else {
          net.wire.disconnect(id); // the link dies, the relay still lists it
          await net.advance(20_000);
          await visitor.leave();
          net.restore(id);
        }
        await net.advance(100);
      }
      await net.advance(60_000);
      expect([...a.peers.keys()]).toEqual(['k']);
      expect(await mostPending()).toBe(baseline);
      const late = net.join('r', { peerId: 'late' });
      await net.advance(1000);
      expect([...a.peers.keys()].sort()).toEqual(['k', 'late']);
      await Promise.all([a.leave(), k.leave(), late.leave()]);
      await net.advance(1000);
      expect(clock.pending).toBe(0);
    });
  }
});
