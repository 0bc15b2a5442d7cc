/**
 * Two documents whose channel names had the same 32-bit id in the first frame format
 * ('doc-95998' and 'doc-438520': FNV-1a of `yjs:<name>` collides) were merged when two
 * peers each opened one: each applied the other's updates. Channel ids are now 48 bits
 * of SHA-256, so the documents stay apart.
 */
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { silentLogger } from '../../src/mesh/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { createYjsProvider } from '../../src/yjs/provider.js';

it('documents whose names collided under 32-bit channel ids stay apart', async () => {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: 1, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
  const a = net.join('r', { peerId: 'a' });
  const b = net.join('r', { peerId: 'b' });
  await net.advance(1000);
  const [secret, notes] = [new Y.Doc(), new Y.Doc()];
  secret.getText('t').insert(0, 'secret plans');
  notes.getText('t').insert(0, 'shopping list');
  const pa = createYjsProvider(a, secret, { name: 'doc-95998', clock, log: () => {} });
  const pb = createYjsProvider(b, notes, { name: 'doc-438520', clock, log: () => {} });
  // Both providers would sync at once; give them time, and an edit after.
  await net.advance(2000);
  notes.getText('t').insert(0, 'my ');
  await net.advance(2000);
  expect(secret.getText('t').toString()).toBe('secret plans');
  expect(notes.getText('t').toString()).toBe('my shopping list');
  pa.destroy();
  pb.destroy();
  await Promise.all([a.leave(), b.leave()]);
});
