/**
 * Presence a peer speaks for is kept until it leaves, so the number of clients one peer
 * may speak for at once is bounded (`limits.maxPresenceClients`): a peer that stays while
 * it invents client ids does not grow a long-lived provider (the keeper) without end.
 * On the in-memory network with simulated time.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';
import { encodeAwareness } from '../../src/yjs/protocol.js';

/** A y-protocols awareness update giving `ids` each a state (or removing them with `null`). */
function presence(ids: number[], state: Record<string, unknown> | null, clock = 1): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, ids.length);
  for (const id of ids) {
    encoding.writeVarUint(e, id);
    encoding.writeVarUint(e, clock);
    encoding.writeVarString(e, JSON.stringify(state));
  }
  return encodeAwareness(encoding.toUint8Array(e));
}

describe('yjs presence clients per peer', () => {
  it('drops presence that would take one peer past maxPresenceClients, keeping what it had', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 11, clock, mesh: { logger: silentLogger() } });
    const keeper = net.join('r', { peerId: 'keeper' });
    const noisy = net.join('r', { peerId: 'noisy' });
    const provider = createYjsProvider(keeper, new Y.Doc(), { name: 'd', clock, log: () => {}, maxStrikes: 100 });
    provider.awareness.setLocalState(null);
    const dropped: string[] = [];
    provider.on('dropped', ({ reason }) => dropped.push(reason));
    await net.advance(1000);
    const ch = noisy.channel('yjs:d');
    const remote = () => provider.awareness.states.size;
    // Ten updates of 20 new clients each: the first three fit under 64.
    for (let i = 0; i < 10; i++) {
      await ch.send('keeper', presence(Array.from({ length: 20 }, (_, k) => 1000 + 20 * i + k), { n: i }));
      await net.advance(50);
    }
    expect(remote()).toBe(60);
    expect(provider.awareness.meta.size).toBe(61); // and our own clock
    expect(dropped).toHaveLength(7);
    expect(dropped[0]).toMatch(/presence for 80 clients, over 64 for one peer/);
    // Removing some makes room again; a peer within the bound is not refused.
    await ch.send('keeper', presence(Array.from({ length: 20 }, (_, k) => 1000 + k), null));
    await ch.send('keeper', presence([5000, 5001], { n: 'again' }));
    await net.advance(50);
    expect(remote()).toBe(42);
    expect(provider.awareness.meta.size).toBe(43);
    expect(dropped).toHaveLength(7);
    expect(keeper.peers.has('noisy')).toBe(true);
    provider.destroy();
    await Promise.all([keeper.leave(), noisy.leave()]);
  });

  it('drops presence a peer gives for our own client, which would replace our local state', async () => {
    const clock = new ManualClock();
    const net = createMemoryNetwork({ seed: 12, clock, mesh: { logger: silentLogger() } });
    const a = net.join('r', { peerId: 'a' });
    const evil = net.join('r', { peerId: 'evil' });
    const doc = new Y.Doc();
    const provider = createYjsProvider(a, doc, { name: 'd', clock, log: () => {} });
    provider.awareness.setLocalStateField('user', { name: 'Ada' });
    const dropped: string[] = [];
    provider.on('dropped', ({ reason }) => dropped.push(reason));
    await net.advance(1000);
    // Its clock is newer than ours: y-protocols would take it as our state, and we would
    // show it, and send it to every peer as ours from then on.
    await evil.channel('yjs:d').send('a', presence([doc.clientID], { user: { name: 'Mallory' } }, 1000));
    await net.advance(50);
    expect(provider.awareness.getLocalState()).toEqual({ user: { name: 'Ada' } });
    expect(dropped).toEqual([`presence for our own client ${doc.clientID}`]);
    provider.destroy();
    await Promise.all([a.leave(), evil.leave()]);
  });
});
