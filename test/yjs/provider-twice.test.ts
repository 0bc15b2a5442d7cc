/**
 * Two providers of one document name in one room would both apply and answer every
 * message of that document (to two docs, or twice to one doc): the second is refused
 * with `channel-in-use`, having set up nothing, until the first is destroyed.
 */
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { silentLogger } from '../../src/mesh/logger.js';
import { createMemoryNetwork } from '../../src/mesh/memory-network.js';
import { ManualClock } from '../../src/util/clock.js';
import { MeshpartyError } from '../../src/util/errors.js';
import { createYjsProvider } from '../../src/yjs/provider.js';

const refusal = (f: () => unknown): MeshpartyError => {
  try {
    f();
  } catch (err) {
    return err as MeshpartyError;
  }
  throw new Error('not refused');
};

it('a second provider of one name in a room is refused until the first is destroyed; other names and rooms are not', async () => {
  const clock = new ManualClock();
  const net = createMemoryNetwork({ seed: 3, clock, latencyMs: 5, mesh: { logger: silentLogger() } });
  const a = net.join('r', { peerId: 'a' });
  const b = net.join('r', { peerId: 'b' });
  const c = net.join('other', { peerId: 'c' });
  await net.advance(1000);
  const [docA, docA2, docB] = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
  const log = () => {};
  const first = createYjsProvider(a, docA, { name: 'notes', clock, log });
  const pb = createYjsProvider(b, docB, { name: 'notes', clock, log });

  const err = refusal(() => createYjsProvider(a, docA2, { name: 'notes', clock, log }));
  expect(err).toBeInstanceOf(MeshpartyError);
  expect(err.code).toBe('channel-in-use');
  expect(err.detail).toMatchObject({ channel: 'yjs:notes', by: expect.stringContaining('document "notes"') });
  // The refused one set nothing up: an edit of its doc goes nowhere, b's edits never reach it.
  docA2.getText('t').insert(0, 'never sent');
  docB.getText('t').insert(0, 'from b');
  await net.advance(2000);
  expect(docA.getText('t').toString()).toBe('from b');
  expect(docB.getText('t').toString()).toBe('from b');
  expect(docA2.getText('t').toString()).toBe('never sent');

  // Another name in the same room, and the same name in another room, are fine.
  const other = createYjsProvider(a, new Y.Doc(), { name: 'todo', clock, log });
  const elsewhere = createYjsProvider(c, new Y.Doc(), { name: 'notes', clock, log });

  // Once the first is destroyed, a new provider of the name is made and syncs.
  first.destroy();
  const second = createYjsProvider(a, docA2, { name: 'notes', clock, log });
  await net.advance(2000);
  expect(docA2.getText('t').toString()).toContain('from b');
  expect(docB.getText('t').toString()).toContain('never sent');
  expect(refusal(() => createYjsProvider(a, new Y.Doc(), { name: 'notes', clock, log })).code).toBe('channel-in-use');

  // A provider stopped by its doc's destruction frees the name too.
  docA2.destroy();
  const third = createYjsProvider(a, new Y.Doc(), { name: 'notes', clock, log });
  for (const p of [pb, other, elsewhere, second, third]) p.destroy();
  await Promise.all([a.leave(), b.leave(), c.leave()]);
});
