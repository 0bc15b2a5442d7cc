/**
 * Updates are not forwarded: each peer sends its own edits to everyone it is connected
 * to. An edit made while its author's link to one peer was down reached only the others;
 * once the author has left, the peers that hold it must pass it on, or the peer that
 * lacks it never gets it (nor, held back by Yjs, any later edit that depends on it) while
 * everyone left stays connected. On the in-memory network with simulated time.
 */
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';

it('an edit that reached only some peers before its author left reaches the others, and so do the edits made on it', async () => {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: 1, clock, latencyMs: 20, mesh: { logger: silentLogger() } });
  const [a, b, c] = ['a', 'b', 'c'].map((peerId) => net.join('r', { peerId }));
  await net.advance(1000);
  const [docA, docB, docC] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
  const [pa, pb, pc] = [a!, b!, c!].map((room, i) => createYjsProvider(room, [docA, docB, docC][i]!, { name: 'd', clock, log: () => {} }));
  await net.advance(500);
  net.block('b', 'c'); // their link fails; both stay connected to a
  await net.advance(10_000);
  expect(b!.peers.has('c')).toBe(false);
  docC.getText('t').insert(0, 'from c');
  await net.advance(500);
  expect(docA.getText('t').toString()).toBe('from c'); // b has not got it: c cannot reach b
  pc!.destroy();
  await c!.leave(); // the tab is closed before the link comes back
  docA.getText('t').insert(6, ', seen by a'); // depends on c's edit
  await net.advance(2000);
  expect(docB.getText('t').toString()).toBe('from c, seen by a');
  pa!.destroy();
  pb!.destroy();
  await Promise.all([a!.leave(), b!.leave()]);
});
